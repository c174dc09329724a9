import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure an administrator exists and print how to log in. A new one gets a generated "
        "password, kept in VAR_DIR/admin-password.txt (mode 600) so it can be shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, username, url, **options):
        User = get_user_model()
        remembered = Path(settings.VAR_DIR) / "admin-password.txt"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username, password=password)
            remembered.write_text(password)
            os.chmod(remembered, 0o600)
        else:
            password = remembered.read_text().strip() if remembered.exists() else ""
            if not password or not user.check_password(password):
                password = (
                    "(changed since it was generated: use yours, or `manage.py changepassword`)"
                )
        self.stdout.write(f"Admin: {url}  user: {username}  password: {password}")

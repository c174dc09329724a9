"""The search box of every list that shows people or tools: a word found in any of the given
text fields, or a UID (in any spelling) of one of the record's NFC tags."""

from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet

from inventory.core.uids import is_uid, normalize_uid


def text_or_uid(records: QuerySet, term: str, *, fields: list[str]) -> QuerySet:
    """`records` whose `fields` contain `term`, or that carry (or once carried) a tag with the
    UID `term`. The records' model has its tags as the reverse relation `tags`."""
    term = term.strip()
    if not term:
        return records
    match = reduce(or_, (Q(**{f"{field}__icontains": term}) for field in fields))
    if is_uid(term):
        # A subquery rather than a join: a record that carried the same UID twice (a badge
        # deactivated and enrolled again) is still listed once.
        tags = records.model._meta.get_field("tags")
        owner = {tags.field.name: OuterRef("pk")}
        match |= Exists(tags.related_model.objects.filter(**owner, uid=normalize_uid(term)))
    return records.filter(match)

from django.urls import path

from kiosk import views

app_name = "kiosk"
urlpatterns = [
    path("", views.screen, name="screen"),
    path("state/", views.state, name="state"),
    path("pair/<str:code>/", views.pair, name="pair"),
    path("undo/", views.undo, name="undo"),
    path("take-over/", views.take_over, name="take-over"),
    path("damage/", views.report_damage, name="damage"),
    path("end/", views.end_session, name="end"),
    path("checklist/", views.answer_checklist, name="checklist"),
    path("demo-tap/", views.demo_tap, name="demo-tap"),
]

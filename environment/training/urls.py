"""RISE results URLs: runs are numbered (`<int:pk>`); names are shown, never routed."""

from django.urls import path

from environment.training import views

urlpatterns = [
    path("training/", views.rise_home, name="rise_home"),
    path("training/runs.json", views.runs_json, name="rise_runs_json"),
    path("training/<int:pk>/", views.run_page, name="rise_run"),
    path("training/<int:pk>/items.json", views.items_json, name="rise_items"),
    path("training/<int:pk>/chart.svg", views.chart_svg, name="rise_chart"),
]

"""RecurrentGPT URLs: projects are numbered (`<int:pk>`), names are shown, never routed."""

from django.urls import path

from environment.writer import views

urlpatterns = [
    path("writer/", views.writer_home, name="writer_home"),
    path("writer/new/", views.create, name="writer_create"),
    path("writer/import/", views.import_project, name="writer_import"),
    path("writer/<int:pk>/", views.project_page, name="writer_project"),
    path("writer/<int:pk>/export/<str:fmt>/", views.export, name="writer_export"),
    path("writer/<int:pk>/delete/", views.delete, name="writer_delete"),
    path("read/<int:pk>/", views.read, name="writer_read"),
]

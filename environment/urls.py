from django.contrib import admin
from django.urls import include, path

from environment import views
from environment.auth import ThrottledLoginView

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Before django.contrib.auth.urls: the same page, with failed sign-ins throttled.
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("environment.smallville.urls")),
    path("", include("environment.writer.urls")),
    path("", include("environment.training.urls")),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.core.views import healthz

admin.site.site_header = "Peppol bridge: support"
admin.site.site_title = "Peppol bridge support"
admin.site.index_title = "All firms"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portal.web.urls")),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.core.views import healthz
from portal.web.views.account import PortalLoginView, PortalSetPasswordView, login_code

admin.site.site_header = "Peppol bridge: support"
admin.site.site_title = "Peppol bridge support"
admin.site.index_title = "All firms"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/login/", PortalLoginView.as_view(), name="login"),
    path("accounts/login/code/", login_code, name="login_code"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only
    # The one-time link from an invitation (or a new link from a firm admin) to set a password.
    path("accounts/set-password/<uidb64>/<token>/", PortalSetPasswordView.as_view(), name="password_reset_confirm"),
    path(
        "accounts/set-password/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/set_password_done.html"),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("", include("portal.webhooks.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("portal.web.urls")),
]

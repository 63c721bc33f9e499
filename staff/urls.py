"""Paths of the people and access API (the user's paths, slash optional)."""

from hospital.routes import both_slashes

from .api import LogoutView, MeView, TokenView, UserViewSet

urlpatterns = [
    *both_slashes("token", TokenView.as_view, "token"),
    *both_slashes("token/logout", LogoutView.as_view, "token-logout"),
    *both_slashes("me", MeView.as_view, "me"),
    *both_slashes("user/create", lambda: UserViewSet.as_view({"post": "create"}), "user-create"),
    *both_slashes(
        "user/update/<int:pk>",
        lambda: UserViewSet.as_view({"put": "update", "patch": "partial_update"}),
        "user-update",
    ),
    *both_slashes(
        "user/blocking/<int:pk>",
        lambda: UserViewSet.as_view({"post": "block", "delete": "unblock"}),
        "user-blocking",
    ),
    *both_slashes("users/", lambda: UserViewSet.as_view({"get": "list"}), "user-list"),
    *both_slashes("users/<int:pk>/", lambda: UserViewSet.as_view({"get": "retrieve"}), "user-detail"),
]

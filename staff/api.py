"""User, token and identity endpoints: validate, call one service, serialise."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from knox.models import AuthToken
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from hospital.openapi import ERRORS, PAGE_NOT_FOUND
from staff import services
from staff.filters import UserFilter
from staff.models import User
from staff.permissions import IsAdministrator
from staff.serializers import (
    WRONG_CREDENTIALS,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
    UserWriteSerializer,
)
from staff.throttling import LoginAddressThrottle, LoginUsernameThrottle

LOCKED_OUT = _("Too many failed logins for this username. Try again later or ask an administrator.")


class LockedOut(Throttled):
    default_code = "locked_out"


class TokenView(APIView):
    """Log in with username and password; get an API token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: ERRORS[400], 429: ERRORS[429]},
        auth=[],
        summary="Log in: username and password in, token out",
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # authenticate() refuses inactive (blocked) users; one message either way, no hint which.
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            if getattr(request, "axes_locked_out", False):
                raise LockedOut(wait=settings.AXES_COOLOFF_TIME.total_seconds(), detail=str(LOCKED_OUT))
            raise ValidationError({"non_field_errors": [WRONG_CREDENTIALS]}, code="invalid_credentials")
        token_row, token = AuthToken.objects.create(user)
        return Response(TokenSerializer({"token": token, "expiry": token_row.expiry}).data)


class LogoutView(APIView):
    """Revoke the token this request is authenticated with."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None, 401: ERRORS[401]}, summary="Log out", tags=["auth"])
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserSerializer, 401: ERRORS[401]}, summary="The caller", tags=["users"])
    def get(self, request):
        return Response(UserSerializer(request.user).data)


@extend_schema_view(
    list=extend_schema(
        summary="List users",
        responses={200: UserSerializer(many=True), **ERRORS.pick(400, 401, 403), 404: PAGE_NOT_FOUND},
    ),
    retrieve=extend_schema(summary="One user", responses={200: UserSerializer, **ERRORS.pick(401, 403, 404)}),
    create=extend_schema(
        summary="Create a patient, doctor or administrator",
        request=UserWriteSerializer,
        responses={201: UserSerializer, **ERRORS.pick(400, 401, 403)},
    ),
    update=extend_schema(
        summary="Change a user (all fields)",
        request=UserWriteSerializer,
        responses={200: UserSerializer, **ERRORS.pick(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="Change a user (any fields)",
        request=UserWriteSerializer(partial=True),
        responses={200: UserSerializer, **ERRORS.pick(400, 401, 403, 404)},
    ),
)
@extend_schema(tags=["users"])
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Administrators manage patients, doctors and administrators."""

    permission_classes = [IsAdministrator]
    serializer_class = UserSerializer
    filterset_class = UserFilter
    queryset = User.objects.prefetch_related("groups").order_by("id")

    def create(self, request):
        serializer = UserWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data, actor=request.user)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        user = self.get_object()
        serializer = UserWriteSerializer(user, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=user, **serializer.validated_data, actor=request.user)
        return Response(UserSerializer(user).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    @extend_schema(
        summary="Block a user: deactivate, revoke tokens, release future appointments",
        request=None,
        responses={200: UserSerializer, **ERRORS.pick(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        user = services.user_block(user=self.get_object(), actor=request.user)
        return Response(UserSerializer(user).data)

    # The DELETE mapping is a view method of its own: its schema is declared here, not on `block`.
    @extend_schema(
        summary="Unblock a user",
        request=None,
        responses={200: UserSerializer, **ERRORS.pick(401, 403, 404)},
    )
    @block.mapping.delete
    def unblock(self, request, pk=None):
        user = services.user_unblock(user=self.get_object(), actor=request.user)
        return Response(UserSerializer(user).data)

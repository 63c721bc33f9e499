"""User API shapes. Validation only: writes go through staff.services."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import BIRTH_DATE_IN_FUTURE, Sex, User
from .roles import Role

USERNAME_TAKEN = _("A user with that username already exists.")
ROLES_REQUIRED = _("Give the user at least one role.")
WRONG_CREDENTIALS = _("Unable to log in with the provided credentials.")


class UserSerializer(serializers.ModelSerializer):
    """A user as every response shows it: never a password or hash."""

    groups = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "last_name",
            "first_name",
            "middle_name",
            "sex",
            "birth_date",
            "email",
            "groups",
            "is_active",
        ]
        read_only_fields = fields

    def get_groups(self, user) -> list[str]:
        return sorted(user.role_names)


class UserWriteSerializer(serializers.Serializer):
    """Input of create and update; fields outside this list are ignored."""

    username = serializers.RegexField(
        r"^[\w.@+-]+\Z", max_length=150, error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")}
    )
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    last_name = serializers.CharField(max_length=150)
    first_name = serializers.CharField(max_length=150)
    middle_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = serializers.DateField()
    groups = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), max_length=len(Role))
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)

    def validate_username(self, value):
        taken = User.objects.filter(username__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(USERNAME_TAKEN, code="unique")
        return value

    def validate_birth_date(self, value):
        from django.utils import timezone

        if value > timezone.localdate():
            raise serializers.ValidationError(BIRTH_DATE_IN_FUTURE, code="future_birth_date")
        return value

    def validate_groups(self, value):
        if not value:
            raise serializers.ValidationError(ROLES_REQUIRED, code="required")
        return sorted(set(value))

    def validate(self, attrs):
        password = attrs.get("password")
        if password:
            # Validators compare the password with the user's own attributes.
            candidate = User(
                **{
                    key: attrs.get(key, getattr(self.instance, key, ""))
                    for key in ("username", "first_name", "last_name", "email")
                }
            )
            try:
                password_validation.validate_password(password, candidate)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"password": list(error.messages)}, code="password") from error
        return attrs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)

"""User API shapes. Validation only: writes go through staff.services."""

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MinLengthValidator, RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.settings import ISO_8601  # type: ignore[attr-defined]

from hospital.fields import IsoDateField, TextEmailField, TextField, TextRegexField
from hospital.openapi import NO_NULL_CHARACTERS, NOT_BLANK, SchemaPattern

from .models import NAME_FORBIDDEN, NAME_INVALID, PERSON_FIELDS, USERNAME_TAKEN, Sex, User, validate_not_future
from .roles import ROLES_REQUIRED, Role

WRONG_CREDENTIALS = _("Unable to log in with the provided credentials.")


class UserSerializer(serializers.ModelSerializer):
    """A user as every response shows it: never a password or hash."""

    groups = serializers.SerializerMethodField()
    # Declared, so that the schema says what the model allows: an address or nothing.
    email = serializers.EmailField(read_only=True, allow_blank=True)
    # ISO 8601, so that a year before 1000 keeps its four digits ("%Y" drops them on Linux).
    birth_date = serializers.DateField(read_only=True, format=ISO_8601)

    class Meta:
        model = User
        fields = ["id", *PERSON_FIELDS, "groups", "is_active"]
        read_only_fields = fields

    def get_groups(self, user) -> list[str]:
        return sorted(user.role_names)


_CONTROL = NAME_FORBIDDEN
# What str.strip() removes, less the control characters above: a name of only these is blank.
_SPACE = r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NAME_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"
# One character or more: drf-spectacular offers "" as a `oneOf` branch of its own for a field
# that may be blank (DRF answers "" before this pattern is checked).
OPTIONAL_NAME_PATTERN = rf"^[^{_CONTROL}]+$"


class NameField(TextField):
    """A person's name: no control characters, and more than white space.

    DRF trims white space, which in Python includes control characters such as \\x1e; without
    the pattern a schema-valid "\\x1e" became a blank name and a 400.
    """

    pattern_text = NAME_PATTERN

    def __init__(self, **kwargs):
        self.pattern = re.compile(self.pattern_text)
        super().__init__(max_length=150, **kwargs)
        # Documents the pattern in the schema; the raw value is checked in to_internal_value.
        self.validators.append(RegexValidator(self.pattern, NAME_INVALID, code="invalid_name"))

    def to_internal_value(self, data):
        # The raw value, before trimming: "\\x1eAnna" must not pass as "Anna".
        if isinstance(data, str) and not self.pattern.fullmatch(data):
            raise serializers.ValidationError(NAME_INVALID, code="invalid_name")
        return super().to_internal_value(data)


class OptionalNameField(NameField):
    """A name that may be left blank (or out)."""

    pattern_text = OPTIONAL_NAME_PATTERN

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_blank=True, **kwargs)


def _password_min_length() -> int:
    """The length AUTH_PASSWORD_VALIDATORS ask for, so that the schema documents it."""
    lengths = [
        validator.min_length
        for validator in password_validation.get_default_password_validators()
        if isinstance(validator, password_validation.MinimumLengthValidator)
    ]
    return max(lengths, default=1)


class SchemaMinLength(MinLengthValidator):
    """Puts the password's minimum length in the schema; validate_password refuses a shorter one."""

    def __call__(self, value):
        # validate_password (in validate) says it, with Django's own message.
        return None


class UserWriteSerializer(serializers.Serializer):
    """Input of create and update; fields outside this list are ignored."""

    username = TextRegexField(
        r"^[\w.@+-]+\Z", max_length=150, error_messages={"invalid": _("Letters, digits and @/./+/-/_ only.")}
    )
    password = TextField(
        write_only=True,
        max_length=128,
        trim_whitespace=False,
        validators=[SchemaPattern(NO_NULL_CHARACTERS), SchemaMinLength(_password_min_length())],
    )
    last_name = NameField()
    first_name = NameField()
    middle_name = OptionalNameField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = IsoDateField(validators=[validate_not_future])
    groups = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices),
        min_length=1,
        max_length=len(Role),
        error_messages={"min_length": ROLES_REQUIRED},
    )
    email = TextEmailField(max_length=254, required=False, allow_blank=True)

    def validate_username(self, value):
        taken = User.objects.filter(username__iexact=value)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError(USERNAME_TAKEN, code="unique")
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
    username = TextField(max_length=150, validators=[SchemaPattern(NOT_BLANK)])
    password = TextField(
        max_length=128, trim_whitespace=False, write_only=True, validators=[SchemaPattern(NO_NULL_CHARACTERS)]
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)

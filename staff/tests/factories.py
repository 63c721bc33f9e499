"""factory_boy factories for people."""

import datetime

import factory
from django.contrib.auth.models import Group

from staff.models import Sex, User
from staff.roles import Role

PASSWORD = "correct horse battery staple"
# Fixed names, not Faker's random ones, so that a failing test meets the same people when it runs
# again (conftest numbers every test's users from zero). The lengths are coprime: the first 156
# users have distinct full names. None is a name of the fixed cast or of fixtures/*.csv, which
# tests look people up by.
FIRST_NAMES = ("Ada", "Bella", "Clara", "Dina", "Emil", "Felix", "Greta", "Hugo", "Ines", "Jonas", "Karl", "Lena")
LAST_NAMES = (
    "Abramova",
    "Belov",
    "Chernova",
    "Danilov",
    "Egorova",
    "Frolov",
    "Gusev",
    "Ilina",
    "Kotov",
    "Lapina",
    "Markov",
    "Nikitina",
    "Osipov",
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: FIRST_NAMES[n % len(FIRST_NAMES)])
    last_name = factory.Sequence(lambda n: LAST_NAMES[n % len(LAST_NAMES)])
    middle_name = ""
    sex = Sex.FEMALE
    birth_date = datetime.date(1990, 5, 17)
    email = factory.LazyAttribute(lambda user: f"{user.username}@clinic.example")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        assign_roles(user, create, extracted or [Role.PATIENT])


def assign_roles(user, create, roles):
    user.save()
    if create:
        user.groups.set([Group.objects.get_or_create(name=role)[0] for role in roles])
        user.__dict__.pop("role_names", None)
        if Role.ADMINISTRATOR in roles and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])

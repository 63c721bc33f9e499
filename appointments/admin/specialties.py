"""The Specialties page: add, rename and delete through the services; how many doctors have each."""

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from appointments import services
from appointments.models import Specialty
from hospital.errors import ServiceError


class SpecialtyForm(forms.ModelForm):
    class Meta:
        model = Specialty
        fields = ("name",)

    def clean_name(self):
        """The service's own check (trimmed, not taken in any case), so the page says what the API would."""
        try:
            return services.specialty_name_clean(
                self.cleaned_data["name"], specialty=self.instance if self.instance.pk else None
            )
        except ServiceError as error:
            raise forms.ValidationError(error.message, code=error.code)


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    form = SpecialtyForm
    list_display = ("name", "doctor_count")
    search_fields = ("name",)
    ordering = ("name",)
    fields = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(doctor_count=Count("doctors"))

    @admin.display(description=_("doctors"), ordering="doctor_count")
    def doctor_count(self, specialty):
        url = reverse("admin:appointments_doctor_changelist") + f"?specialties__id__exact={specialty.pk}"
        return format_html('<a href="{}">{}</a>', url, specialty.doctor_count)

    def save_model(self, request, obj, form, change):
        if change:
            stored = Specialty.objects.get(pk=obj.pk)
            services.specialty_rename(specialty=stored, name=form.cleaned_data["name"], actor=request.user)
            return
        created = services.specialty_create(name=form.cleaned_data["name"], actor=request.user)
        # The admin goes on with `obj` (its history entry, the redirect): make it the created row.
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def save_related(self, request, form, formsets, change):
        """Nothing: the page edits the name only; doctors get specialties on their own page."""

    def delete_model(self, request, obj):
        services.specialty_delete(specialty=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for specialty in queryset:
            services.specialty_delete(specialty=specialty, actor=request.user)

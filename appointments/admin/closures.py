"""Clinic closures: their own page; adding and deleting go through the closure services."""

from django import forms
from django.contrib import admin

from appointments import services
from appointments.models import Closure


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ("date_from", "date_to", "reason")

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", services.CLOSURE_DATES_REVERSED)
        return cleaned


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    """A closure is added or deleted, never edited: each regenerates every doctor's slots."""

    form = ClosureForm
    list_display = ("date_from", "date_to", "reason")
    search_fields = ("reason",)
    date_hierarchy = "date_from"
    ordering = ("-date_from", "-id")

    def has_change_permission(self, request, obj=None):
        # The list (obj None) is editable in the sense of its delete action; a closure's own page is read-only.
        return obj is None and super().has_change_permission(request)

    def save_model(self, request, obj, form, change):
        closure = services.closure_create(
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
        # The page's history and its message link to the row the service made.
        obj.pk, obj.created_at = closure.pk, closure.created_at

    def delete_model(self, request, obj):
        services.closure_delete(closure=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for closure in queryset:
            services.closure_delete(closure=closure, actor=request.user)

"""The production static files storage: WhiteNoise's compressed manifest, plus Jazzmin's folder reference.

Jazzmin 3.0.5's ``admin/base.html`` renders ``{% static 'vendor/bootswatch' %}`` (a folder, the base
its theme switcher builds URLs from). A manifest storage knows only files, so with debug off every
admin page after login raised ``ValueError: Missing staticfiles manifest entry for
'vendor/bootswatch'``. Upstream: https://github.com/farridav/django-jazzmin/issues/684 (open); delete
``FOLDER_REFERENCES`` once a Jazzmin release no longer passes a folder to ``{% static %}``.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    # Folders templates we do not own pass to {% static %}: served unhashed (nothing is fetched
    # from them as they are; the theme switcher appends a file name). Every other name stays strict.
    FOLDER_REFERENCES = frozenset({"vendor/bootswatch"})

    def stored_name(self, name):
        if name in self.FOLDER_REFERENCES:
            return name
        return super().stored_name(name)

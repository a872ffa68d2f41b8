"""Thumbnails become centre squares in 1×, 2× and 3× sizes (`materials.thumbnails`): made again
for the images stored before, from their stored file (an image whose file is gone is left)."""
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import migrations
from PIL import Image

from materials.intake import jpeg_encode
from materials.thumbnails import thumbnail_name, thumbnails_make


def rebuild(apps, schema_editor):
    MaterialImage = apps.get_model("materials", "MaterialImage")
    rows = MaterialImage.objects.exclude(image="").exclude(thumbnail="").only("image", "thumbnail")
    for row in rows.iterator():
        if not default_storage.exists(row.image.name):
            continue
        with default_storage.open(row.image.name) as handle, Image.open(handle) as opened:
            pixels = opened.convert("RGB")
        for suffix, thumb in thumbnails_make(pixels).items():
            name = thumbnail_name(row.thumbnail.name, suffix)
            default_storage.delete(name)
            default_storage.save(name, ContentFile(jpeg_encode(thumb)))


class Migration(migrations.Migration):
    dependencies = [("materials", "0003_embedding_input")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop, elidable=True)]

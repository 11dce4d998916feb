"""Creates the database and two confidential client-credentials applications, one with DOT's
default PBKDF2-hashed secret and one stored with hash_client_secret=False; prints them as JSON."""
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotbench.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

call_command("migrate", verbosity=0)
user, _ = get_user_model().objects.get_or_create(username="bench")
out = {}
for name, hashed in (("hashed", True), ("unhashed", False)):
    secret = "s3cr3t-" + name + "-" + "x" * 32
    Application.objects.filter(name=name).delete()
    app = Application(name=name, user=user, client_type=Application.CLIENT_CONFIDENTIAL,
                      authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                      client_secret=secret, hash_client_secret=hashed)
    app.save()
    out[name] = {"client_id": app.client_id, "client_secret": secret}
print(json.dumps(out))

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from organizations.models import AdministrativeUnit


class Citizen(TimeStampedModel):
    """A citizen's account on the portal (tài khoản công dân): who they are, as the identity provider vouched or as
    they told us, and how to reach them. Staff accounts never have one (they sign in separately)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="citizen"
    )
    full_name = models.CharField(_("full name"), max_length=255)
    id_number = models.CharField(_("personal identification number"), max_length=12, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    commune = models.ForeignKey(
        AdministrativeUnit, verbose_name=_("commune"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Set when the account came from single sign-on: the provider and its subject identifier ("sub"). Claims from
    # the provider are verified identity; a local account's details are only what the citizen typed.
    provider = models.CharField(_("identity provider"), max_length=40, blank=True)
    subject = models.CharField(_("subject at the provider"), max_length=255, blank=True)
    identity_verified = models.BooleanField(_("identity verified"), default=False)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "subject"], condition=~models.Q(subject=""), name="citizen_unique_subject"
            ),
            models.UniqueConstraint(
                fields=["id_number"],
                condition=models.Q(identity_verified=True) & ~models.Q(id_number=""),
                name="citizen_unique_verified_id",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


def stored_document_path(instance: "StoredDocument", filename: str) -> str:
    # A generated name under the checksum: the citizen's file name never reaches the file system.
    return f"store/{timezone.now():%Y/%m}/{instance.checksum[:2]}/{instance.checksum}"


class StoredDocument(models.Model):
    """A document in the citizen's personal data store (kho quản lý dữ liệu điện tử của cá nhân): what they
    uploaded and the results they received, reusable in later dossiers without uploading again."""

    class Origin(models.TextChoices):
        UPLOAD = "upload", _("submitted by the citizen")
        RESULT = "result", _("result of a dossier")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="stored_documents"
    )
    name = models.CharField(_("name"), max_length=500)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    dossier_code = models.CharField(_("from dossier"), max_length=60, blank=True)
    file = models.FileField(_("file"), upload_to=stored_document_path, max_length=255)
    file_name = models.CharField(_("original file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    checksum = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("stored document")
        verbose_name_plural = _("stored documents")
        ordering = ["owner", "-created_at"]
        constraints = [
            # The same file is kept once per owner, whatever the number of dossiers it went into.
            models.UniqueConstraint(fields=["owner", "checksum"], name="stored_document_unique_file")
        ]

    def __str__(self) -> str:
        return self.name

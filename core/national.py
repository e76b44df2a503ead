"""The national status set of dossiers: shared by the workflows (each step maps to one) and the dossiers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.IntegerChoices):
    """The national status set synced to the national portal (DOMAIN.md)."""

    SUBMITTED = 1, _("Submitted online")
    ACCEPTED = 2, _("Accepted")
    REFUSED = 3, _("Refused at intake")
    IN_PROCESS = 4, _("In process")
    WAITING_SUPPLEMENT = 5, _("Waiting for supplement")
    WAITING_PAYMENT = 6, _("Waiting for payment")
    WITHDRAWN = 7, _("Withdrawn by the applicant")
    STOPPED = 8, _("Stopped")
    RESOLVED = 9, _("Resolved")
    RETURNED = 10, _("Result returned")

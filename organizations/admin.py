from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    AdministrativeUnit,
    Agency,
    AgencyName,
    Counter,
    Department,
    FocalOfficer,
    Reorganisation,
    Role,
    Staff,
    Succession,
)


class AgencyScopedAdmin(admin.ModelAdmin):
    """Province admins see everything; an agency admin sees only rows of their own agency."""

    agency_path = "agency"

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        qs = super().get_queryset(request)
        staff = getattr(request.user, "staff", None)
        if request.user.is_superuser or (staff and staff.role == Role.PROVINCE_ADMIN):
            return qs
        if staff is None:
            return qs.none()
        return qs.filter(**{self.agency_path: staff.agency_id})


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "valid_from", "valid_until"]
    list_filter = ["kind", "valid_from"]
    search_fields = ["name", "codename", "=code"]


class DepartmentInline(admin.TabularInline):
    model = Department
    extra = 0
    fields = ["code", "kind", "name", "valid_from", "valid_until"]


class CounterInline(admin.TabularInline):
    model = Counter
    extra = 0
    fields = ["code", "name", "is_active"]


@admin.register(Agency)
class AgencyAdmin(AgencyScopedAdmin):
    agency_path = "pk"
    list_display = ["identifier", "name", "level", "kind", "unit", "valid_from", "valid_until"]
    list_filter = ["level", "kind", ("valid_until", admin.EmptyFieldListFilter)]
    search_fields = ["identifier", "name", "short_name", "unit__name"]
    list_select_related = ["unit"]
    autocomplete_fields = ["parent", "unit"]
    inlines = [DepartmentInline, CounterInline]


@admin.register(Department)
class DepartmentAdmin(AgencyScopedAdmin):
    list_display = ["name", "code", "kind", "agency", "valid_from", "valid_until"]
    list_filter = ["kind", "agency__level"]
    search_fields = ["name", "code", "agency__name", "agency__identifier"]
    list_select_related = ["agency"]
    autocomplete_fields = ["agency"]


@admin.register(Counter)
class CounterAdmin(AgencyScopedAdmin):
    list_display = ["name", "code", "agency", "is_active"]
    list_filter = ["is_active", "agency__level"]
    search_fields = ["name", "code", "agency__name"]
    list_select_related = ["agency"]
    autocomplete_fields = ["agency"]


@admin.register(Staff)
class StaffAdmin(AgencyScopedAdmin):
    list_display = ["user", "full_name", "role", "agency", "department", "counter"]
    list_filter = ["role", "agency__level"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "agency__name", "agency__identifier"]
    list_select_related = ["user", "agency", "department", "counter"]
    autocomplete_fields = ["user", "agency", "department", "counter"]

    @admin.display(description=_("full name"))
    def full_name(self, obj: Staff) -> str:
        return obj.user.get_full_name()


@admin.register(FocalOfficer)
class FocalOfficerAdmin(AgencyScopedAdmin):
    """Read only: the register is kept on the back-office page (/mot-cua/can-bo-dau-moi/), whose services grant and
    revoke the officers' accounts with each record."""

    list_display = ["full_name", "agency", "title", "phone", "email", "staff", "valid_from", "valid_until"]
    list_filter = [("valid_until", admin.EmptyFieldListFilter), "agency__level"]
    search_fields = ["full_name", "=id_number", "email", "phone", "agency__name", "agency__identifier"]
    list_select_related = ["agency", "staff__user"]
    readonly_fields = ["agency", "full_name", "phone", "id_number", "email", "title", "staff", "valid_from",
                       "valid_until", "created_at", "updated_at"]  # fmt: skip

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class SuccessionInline(admin.TabularInline):
    model = Succession
    extra = 0
    can_delete = False
    readonly_fields = ["predecessor", "successor", "main", "department_codes", "procedure_codes"]

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(Reorganisation)
class ReorganisationAdmin(admin.ModelAdmin):
    """Read only: reorganisations are recorded and applied on the back-office page (/mot-cua/sap-xep-to-chuc/),
    whose services validate them and move everything on the effective date in one transaction."""

    list_display = ["__str__", "decision", "effective_date", "state", "applied_at"]
    list_filter = ["state", "kind"]
    search_fields = ["decision", "successions__predecessor__name", "successions__successor__name"]
    readonly_fields = ["kind", "effective_date", "decision", "note", "state", "new_name", "new_short_name",
                       "new_identifier", "created_by", "applied_at", "report"]  # fmt: skip
    inlines = [SuccessionInline]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(AgencyName)
class AgencyNameAdmin(AgencyScopedAdmin):
    list_display = ["name", "identifier", "agency", "valid_until"]
    search_fields = ["name", "identifier", "agency__name"]
    list_select_related = ["agency"]
    readonly_fields = ["agency", "name", "short_name", "identifier", "valid_until", "reorganisation"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

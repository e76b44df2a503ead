import factory

from procedures.models import Competence, Component, Fee, Field, Procedure


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"linh_vuc_{n}")
    name = factory.Sequence(lambda n: f"Lĩnh vực thử {n}")


class ProcedureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Procedure
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"9.{n:06d}")
    code_is_illustrative = True
    name = factory.Sequence(lambda n: f"Thủ tục thử nghiệm số {n}")
    level = Procedure.Level.COMMUNE
    field = factory.SubFactory(FieldFactory)
    processing_time = 5
    time_unit = Procedure.TimeUnit.DAYS
    online_level = Procedure.OnlineLevel.PARTIAL
    legal_basis = "Luật Hộ tịch số 60/2014/QH13"
    steps = "Bước 1: Nộp hồ sơ\nBước 2: Nhận kết quả"
    result = "Kết quả thử"

    class Params:
        closed = factory.Trait(status=Procedure.Status.CLOSED)
        fully_online = factory.Trait(online_level=Procedure.OnlineLevel.FULL)

    @factory.post_generation
    def components(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            for order in range(1, (extracted or 2) + 1):
                Component.objects.create(procedure=self, order=order, name=f"Giấy tờ {order}", required=order == 1)
            Fee.objects.create(procedure=self, name="Lệ phí", amount=10000)

    @factory.post_generation
    def agencies(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        for agency in extracted or []:
            Competence.objects.create(procedure=self, agency=agency, valid_from="2025-07-01")

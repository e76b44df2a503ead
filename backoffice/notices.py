"""The notices issued while processing a dossier, printable: forms 2, 4, 5 and the refusal to resolve."""

from dossiers import selectors as dossier_selectors
from receipts import services as receipts

from .views import _document, _get, officer_required

_FILE_NAMES = {
    "supplement": "phieu-yeu-cau-bo-sung",
    "payment": "thong-bao-nghia-vu-tai-chinh",
    "apology": "phieu-xin-loi",
    "stop": "thong-bao-dung-giai-quyet",
    "refusal": "thong-bao-tu-choi-giai-quyet",
}


@officer_required
def notice(request, officer, code: str, pk: int, fmt: str):  # type: ignore[no-untyped-def]
    dossier = _get(dossier_selectors.access_dossier_for_officer, officer=officer, code=code)
    item = _get(dossier_selectors.notice_for_dossier, dossier=dossier, pk=pk)
    content = receipts.notice_pdf(notice=item) if fmt == "pdf" else receipts.notice_html(notice=item)
    return _document(fmt, content, f"{_FILE_NAMES.get(item.kind, 'phieu')}-{dossier.code}-{item.pk}")

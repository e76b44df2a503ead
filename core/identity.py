"""Personal identification numbers (số định danh cá nhân, 12 digits) as issued since 2016, and Vietnamese phone
numbers.

Layout (Thông tư 59/2021/TT-BCA): 3 digits for the province of birth registration (001–096), 1 digit for
gender and century (0/1 = male/female born 1900–1999, 2/3 = 2000–2099, 4/5 = 2100–2199, ...), 2 digits for the
year of birth, 6 random digits.
"""

import datetime as dt

import phonenumbers
from django.utils.translation import gettext as _


def personal_id_errors(number: str, *, birth_date: dt.date | None = None) -> list[str]:
    if len(number) != 12 or not number.isdigit():
        return [_("A personal identification number has exactly 12 digits.")]
    province = int(number[:3])
    if not 1 <= province <= 96:
        return [_("The first three digits (%(digits)s) are not a province code.") % {"digits": number[:3]}]
    if birth_date is not None:
        century = 1900 + 100 * (int(number[3]) // 2)
        if century + int(number[4:6]) != birth_date.year:
            return [_("The number does not match the date of birth (year %(year)s).") % {"year": birth_date.year}]
    return []


def vietnamese_phone(text: str) -> tuple[str, str]:
    """'+84 912 345 678' -> ('0912345678', ''); otherwise the text and what is wrong with it (Google's
    libphonenumber data: mobile and fixed lines, the 2018 mobile prefixes, the 2017 area codes)."""
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number_for_region(number, "VN"):
        return text, _("Enter a Vietnamese phone number (e.g. 0912 345 678 or 0296 3852 222).")
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit()), ""

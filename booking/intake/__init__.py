"""The couples intake: questionnaire definitions as data, answer checks, consents, encryption.

The pure parts are importable from here; files and their formats are described in each module.
"""

from booking.core.crypto import DecryptionError, Keyring, key_id_of
from booking.intake.consents import (
    Consent,
    Resource,
    Support,
    load_consents,
    load_support,
    validate_consents,
)
from booking.intake.datafiles import IntakeFileError
from booking.intake.questionnaire import (
    COUPLE,
    EACH_PARTNER,
    Option,
    Question,
    Questionnaire,
    Section,
    UnknownQuestionnaire,
    load_questionnaire,
    raises_safety_flag,
    validate_answers,
)

__all__ = [
    "COUPLE",
    "EACH_PARTNER",
    "Consent",
    "DecryptionError",
    "IntakeFileError",
    "Keyring",
    "Option",
    "Question",
    "Questionnaire",
    "Resource",
    "Section",
    "Support",
    "UnknownQuestionnaire",
    "key_id_of",
    "load_consents",
    "load_questionnaire",
    "load_support",
    "raises_safety_flag",
    "validate_answers",
    "validate_consents",
]

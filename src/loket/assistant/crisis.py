"""Crisis and emergencies: a person in danger gets the right number at once, not a search result.

Deliberately broad: signposting someone who did not need it costs a sentence; missing someone who
did is not acceptable. The numbers are the deployment's (settings `emergency_number`, `suicide_line`).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Crisis(StrEnum):
    SUICIDE = "suicide"
    EMERGENCY = "emergency"


_SUICIDE = re.compile(
    r"\b(?:zelfmoord|suïcide|suicide|zelfdoding|suicidaal|suïcidaal|suicidal|selbstmord|suizid|suizidal"
    r"|mezelf (?:van kant maken|iets aandoen|ophangen|doden)|een einde aan mijn leven|niet meer leven"
    r"|wil (?:niet meer|dood)|dood willen|kill myself|end my life|want to die|don't want to live"
    r"|no reason to live|end it all|(?:er )?een eind[e]? aan (?:te )?maken|er een punt achter zetten"
    r"|en finir avec la vie|en finir|schluss machen mit dem leben|allem ein ende setzen"
    r"|me tuer|me suicider|mettre fin à (?:mes jours|ma vie)|envie de mourir|plus envie de vivre"
    r"|mich umbringen|mir das leben nehmen|nicht mehr leben|sterben will)\b",
    re.IGNORECASE,
)
_EMERGENCY = re.compile(
    r"\b(?:brand|fire|feu|incendie|feuer|ambulance|ambulancier|krankenwagen|hartaanval|heart attack"
    r"|crise cardiaque|herzinfarkt|bewusteloos|unconscious|inconscient|bewusstlos|ademt niet|not breathing"
    r"|ne respire pas|atmet nicht|overval|inbreker in huis|intruder|cambrioleur chez moi|einbrecher"
    r"|wordt aangevallen|being attacked|on m'agresse|werde angegriffen|bloedt hevig|bleeding heavily"
    r"|pijn op de borst|chest pains?|douleur (?:à la poitrine|thoracique)|brustschmerz\w*"
    r"|kan niet (?:goed )?(?:meer )?ademen|krijgt geen lucht|can'?not breathe|can't breathe"
    r"|n'arrive (?:pas|plus) à respirer|kann nicht (?:mehr )?atmen|bekommt keine luft"
    r"|beroerte|stroke|avc|schlaganfall|overdosis|overdose|vergiftigd|poisoned|empoisonné|vergiftet"
    r"|verdrinkt|drowning|se noie|ertrinkt"
    r"|noodgeval|emergency|urgence|notfall|help,? (?:nu|now)|au secours|hilfe)\b",
    re.IGNORECASE,
)
# Words that name a service, not a danger: "brandverzekering", "fire safety certificate" stay questions.
_ABOUT_A_SERVICE = re.compile(
    r"\b(?:verzekering|insurance|assurance|premie|premium|certifica\w*|attest|vergunning|permit|keuring"
    r"|melder|alarm|detector|détecteur|oefening|drill|training|cursus|kosten|cost|prijs|price|tarif)",
    re.IGNORECASE,
)


def detect(question: str) -> Crisis | None:
    text = unicodedata.normalize("NFKC", question)
    if _SUICIDE.search(text):
        return Crisis.SUICIDE
    if _EMERGENCY.search(text) and not _ABOUT_A_SERVICE.search(text):
        return Crisis.EMERGENCY
    return None

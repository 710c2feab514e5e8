"""Prompt-injection, jailbreak and abuse detection without a language model.

Attackers hide instructions: in Unicode tag characters, between zero-width spaces, in base64, rot13,
leetspeak, spaced or reversed letters. Each of those readings of the question is checked against
the same multilingual patterns (Dutch, French, English); each pattern family adds its weight, and a
question is refused at 1.0. Hidden tag-character text is refused on sight: no citizen types it.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import difflib
import re
import unicodedata
from dataclasses import dataclass

from loket.personal_data import strip_invisible

THRESHOLD = 1.0
_TAGS = re.compile("[\U000e0000-\U000e007f]")
# Subdivision flags (Wales, Scotland) are a black flag followed by tag letters: emoji, not payloads.
_FLAG = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,7}\U000e007f")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_LEET = str.maketrans("013457@$!|", "oieastasil")
_SPACED = re.compile(r"\b(?:\w[ .\-_*]){2,}\w\b")
# Misspelt key words still read as the key word: "ignroe all prevous instructons".
_KEYWORDS = (
    "ignore",
    "disregard",
    "previous",
    "instructions",
    "instruction",
    "negeer",
    "vergeet",
    "vorige",
    "eerdere",
    "instructies",
    "oublie",
    "ignorer",
    "toutes",
    "précédentes",
    "precedentes",
    "consignes",
)

_YOUR = r"(?:all|any|your|the|previous|prior|above|earlier|former|initial|original|system|these|those)"
_JOUW = r"(?:al|alle|je|jouw|uw|de|vorige|eerdere|bovenstaande|voorgaande|oorspronkelijke|deze|die)"
_JOUW_OWN = r"(?:al|alle|je|jouw|uw|vorige|eerdere|bovenstaande|voorgaande|oorspronkelijke)"
_TES = r"(?:tes|vos|les|toutes|tous|précédentes|precedentes|ces|la|le)"
_RULES_EN = (
    r"(?:instructions?|rules|guidelines|prompts?|directives|constraints|restrictions|programming|orders)"
)
_RULES_NL = r"(?:instructies?|regels|richtlijnen|opdrachten|prompts?|beperkingen|afspraken|programmering)"
_RULES_FR = r"(?:instructions?|consignes|règles|regles|directives|restrictions|contraintes|prompts?)"
_NEAR = r"(?:\W+\w+){0,4}?\W+"
_DEINE = r"(?:alle|alles|deine|ihre|die|den|der|bisherigen|vorherigen|vorigen|obigen|ursprünglichen|diese)"
_RULES_DE = (
    r"(?:anweisungen|anweisung|regeln|vorgaben|richtlinien|befehle|instruktionen|einschränkungen|prompts?)"
)

PATTERNS: tuple[tuple[str, float, re.Pattern[str]], ...] = tuple(
    (family, weight, re.compile(pattern, re.IGNORECASE))
    for family, weight, pattern in (
        (
            "override",
            1.0,
            rf"\b(?:ignore|disregard|forget|override|bypass|skip|drop)\b{_NEAR}{_YOUR}{_NEAR}{_RULES_EN}"
            rf"|\b(?:negeer|vergeet|ignoreer|omzeil|schrap|laat)\w*\b{_NEAR}{_JOUW}{_NEAR}{_RULES_NL}"
            rf"|\b{_JOUW_OWN}\s+{_RULES_NL}\W+(?:\w+\W+){{0,3}}(?:negeren|vergeten|loslaten|overboord)"
            rf"|(?<!ai )(?<!as )(?<!avez )\b(?:ignore|oublie|oubliez|ignorez|contourne|néglige|neglige|fais abstraction)\w*\b{_NEAR}"
            rf"{_TES}{_NEAR}{_RULES_FR}|\bne tiens? (?:plus |pas )?compte\b{_NEAR}{_RULES_FR}"
            rf"|\b(?:ignorier|vergiss|vergessen|missacht|umgeh)\w*\b{_NEAR}{_DEINE}{_NEAR}{_RULES_DE}",
        ),
        (
            "new_rules",
            0.6,
            r"\b(?:new|nieuwe|nouvelles?)\s+(?:instructions?|rules|regels|instructies|consignes|règles)\b"
            r"|\bfrom now on\b|\bvanaf nu\b|\bà partir de maintenant\b|\bdésormais\b",
        ),
        (
            "prompt_leak",
            1.0,
            r"\b(?:system|systeem|système|systeme|initial|hidden|secret|verborgen|geheime|cachées?|secrètes?)"
            r"\s*[-_ ]?(?:prompt|instructions?|instructies|regels|rules|consignes|règles|message)\b"
            r"|\b(?:developer|ontwikkelaars?|développeur)\s*(?:message|bericht|mode|modus)\b"
            r"|\b(?:reveal|print|repeat|show|output|display|dump|leak|paste|copy|list|geef|toon|herhaal|kopieer|lek|affiche|copie|recopie|"
            r"répète|repete|révèle|revele|montre|donne)\w*\b(?:\W+\w+){0,6}?\W+(?:your|je|jouw|uw|tes|vos|the|de|les)"
            r"\W+(?:\w+\W+){0,2}(?:instructions?|prompt|instructies|regels|rules|consignes|configuration|"
            r"configuratie|guidelines|richtlijnen)\b",
        ),
        (
            "role_play",
            1.0,
            r"\b(?:you are|you're|act as|be|become|enable|activate|jij bent|je bent|tu es|sois)\s+(?:now\s+)?dan\b"
            r"|\bdan mode\b|\bjailbreak|\bdo anything now\b|\b(?:developer|god|debug|admin|sudo)\s*mode\b"
            r"|\bontwikkelaarsmodus\b|\bmode (?:développeur|developpeur|dieu|admin)\b"
            r"|\b(?:unrestricted|unfiltered|uncensored|onbeperkte?|ongefilterde?|ongecensureerde?|sans limites?|"
            r"non censurée?|sans filtre|sans restrictions?)\b"
            r"|\bwithout (?:any )?(?:rules|restrictions|limits|filters|guidelines)\b"
            r"|\bzonder (?:enige )?(?:regels|beperkingen|grenzen|filters?|censuur)\b"
            r"|\bsans (?:aucune )?(?:règles?|regles?|limites?|restrictions?|filtres?|censure)\b"
            r"|\baucune (?:restriction|règle|regle|limite)s?\b|\bno limits\b|\bgeen (?:enkele )?beperkingen\b",
        ),
        (
            "persona",
            0.6,
            r"\b(?:pretend|act as|roleplay|role-play|you are now|from now on you are|simulate)\b"
            r"|\b(?:doe alsof|speel de rol|je bent nu|jij bent een|gedraag je als|stel je voor dat je|spelletje|rollenspel)\b"
            r"|\b(?:let's play a game|jeu de rôle|jeu de role|tu es un|you are a)\b"
            r"|\b(?:fais comme si|fais semblant|joue le rôle|joue le role|tu es maintenant|imagine que tu es)\b"
            r"|\b(?:grandmother|grandma|oma|grootmoeder|grand-mère|grand-mere|mamie)\b.{0,80}\b(?:used to|vroeger|"
            r"autrefois|read|las|lisait|tell|vertelde|racontait)",
        ),
        (
            "delimiter",
            1.0,
            r"<\|im_(?:start|end)\|>|\[/?INST\]|<\/?(?:system|sys|assistant|instructions?)>|###\s*(?:system|instruction)"
            r"|\"role\"\s*:\s*\"(?:system|developer)\"|```\s*system|\bBEGIN SYSTEM\b|<<SYS>>"
            r"|<(?:start|end)_of_turn>|\[system\]|\bend of user input\b|\badmin override\b",
        ),
        (
            "decode_and_obey",
            0.6,
            r"\b(?:decode|decodeer|décode|decode|translate|vertaal|traduis|reverse|draai om)\w*\b.{0,60}\b(?:follow|"
            r"execute|obey|do (?:it|what)|volg|voer\w* uit|gehoorzaam|doe wat|suis|exécute|execute|obéis|fais ce)",
        ),
        (
            "fraud",
            1.0,
            r"\b(?:maak\w*|mak\w*|creat\w*|produc\w*|print\w*|fabriqu\w*|crée\w*|creer|créer|produire|imprim\w*|"
            r"bestel\w*|koop|kopen|buy|acheter|get me|bezorg\w*|schrijf|write|draft\w*|rédige\w*|redige\w*|écri\w*|"
            r"opstel\w*|stel\w*|help\w* me|aide\w*-moi)\b.{0,40}\b(?:fake|nep|valse?|vervalste?|forged|counterfeit|"
            r"faux|fausse|falsifiée?|contrefaite?)\b"
            r"|\bfake (?:a|an|my|the)\b|\bhoe (?:je|ik|men|we)\b.{0,40}\b(?:namaakt|namaak|vervalst|vervals)\w*"
            r"|\b(?:forge|falsify|counterfeit|vervals|vervalsen|namaken|falsifier|falsifie|contrefaire)\s+"
            r"(?:a|an|my|the|een|mijn|de|het|un|une|mon|ma|le|la|les|des)\b"
            r"|\b(?:someone else'?s|another person'?s|iemand anders(?:'|’)? ?s?|andermans|van iemand anders|"
            r"de quelqu'un d'autre|d'une autre personne)\s*(?:digid|itsme|eid|identity|identiteit|login|"
            r"inloggegevens|identité)"
            r"|\b(?:evade|dodge|ontduik\w*|frauder\w*|fraude plegen|frauduleusement)\b",
        ),
        (
            "override_reversed",
            1.0,
            r"\b(?:instructions?|instructies?|consignes|rules|regels|règles)\b[^.?!]{0,50}\b(?:you|je|jij|tu|t')\b[^.?!]{0,40}"
            r"\b(?:forget|ignore|disregard|vergeten|negeren|oublier|ignorer|oublie)"
            r"|\b(?:forget|ignore|disregard|vergeet|negeer|oublie|ne tiens plus compte de|no longer follow)\b\W+"
            r"(?:what|wat|ce qu'on|ce que|everything|alles|tout ce)\b[^.?!]{0,30}\b(?:told|asked|instructed|opgedragen|"
            r"gezegd|gevraagd|demandé|demande|dit|programmed|geprogrammeerd)"
            r"|\b(?:disregard|ignore|forget|negeer|vergeet|oublie|ignore)\W+(?:the above|everything (?:above|before)|"
            r"all of the above|alles hierboven|wat hierboven staat|tout ce qui précède|ce qui précède)",
        ),
        (
            "prompt_leak_more",
            1.0,
            r"\b(?:systeembericht|systeemprompt|bericht van de ontwikkelaar|message du développeur|"
            r"prompt (?:système|systeme|initial|complet)|initiële prompt|oorspronkelijke instructies|"
            r"original instructions|instructions de départ|instructions d'origine|starting instructions)\b"
            r"|\b(?:règles|regles|instructions|consignes)\s+(?:cachées?|secrètes?|initiales?)"
            r"|\b(?:text|tekst|texte)\b[^.?!]{0,30}\b(?:above|boven|au-dessus)\b[^.?!]{0,30}\b(?:conversation|gesprek|chat)",
        ),
        (
            "no_rules",
            0.5,
            r"\b(?:geen|no|aucune|pas de|zonder)\s+(?:regels|rules|restrictions?|beperkingen|limits|limites?|règles|grenzen)\b",
        ),
        (
            "stay_in_character",
            1.0,
            r"\b(?:stay in character|don't break character|do not break character|stap niet uit je rol|blijf in je rol|"
            r"ne sors pas du rôle|ne sors pas de ton rôle|reste dans ton personnage|reste dans ton rôle)\b"
            r"|\b(?:(?:ben je|jij bent|je bent|you are|tu es|sois)\s+(?:now\s+)?dan|(?:antwoord|answer|réponds) (?:als|as|comme) dan)\b",
        ),
        (
            "harm_intent",
            1.0,
            r"\b(?:without (?:anyone|him|her|them|somebody) (?:noticing|knowing|finding out)|without getting caught|"
            r"zonder (?:dat )?(?:iemand|hij|zij|ze) (?:het )?(?:merkt|weet|doorheeft)|zonder gepakt te worden|"
            r"sans qu'(?:il|elle|on) (?:le sache|s'en aperçoive|le remarque)|sans me faire (?:prendre|attraper))\b"
            r"|\b(?:hide|conceal|verberg\w*|verzwijg\w*|verstop\w*|cacher|dissimuler)\b[^.?!]{0,30}\b(?:income|earnings|"
            r"inkomsten|inkomen|revenus?|salaire|geld|money)",
        ),
        (
            "insult",
            1.0,
            r"\b(?:threaten|bedreig\w*|menace[rz]?|insult\w*|beledig\w*|scheld\w*|injurie\w*|scheldbrief|hate mail)\b.{0,60}"
            r"\b(?:officials?|officer|ambtenaar|ambtenaren|mayor|burgemeester|maire|fonctionnaires?|minister|ministre|"
            r"medewerkers|staff|agents|personeel|employees|idioten|incapables)"
            r"|\b(?:dreigbrief|threatening (?:letter|message|e-?mail)|lettre de menaces?|bedreigende (?:brief|mail))\b",
        ),
    )
)


@dataclass(frozen=True)
class AbuseVerdict:
    refused: bool
    score: float
    families: tuple[str, ...]


def assess(question: str) -> AbuseVerdict:
    if _hidden_text(question).strip():
        return AbuseVerdict(True, THRESHOLD, ("hidden_text",))
    families = {family: weight for reading in _readings(question) for family, weight in _matches(reading)}
    score = sum(families.values())
    return AbuseVerdict(score >= THRESHOLD, round(score, 2), tuple(sorted(families)))


def _hidden_text(question: str) -> str:
    """Unicode tag characters mirror ASCII: the text a model would read and a person would not see."""
    return "".join(chr(ord(char) - 0xE0000) for char in _TAGS.findall(_FLAG.sub("", question)))


def _readings(question: str) -> list[str]:
    visible = unicodedata.normalize("NFKC", strip_invisible(question))
    lower = visible.lower()
    readings = [
        lower,
        lower.translate(_LEET),
        _unspaced(lower),
        _corrected(lower),
        lower[::-1],
        codecs.decode(lower, "rot13"),
    ]
    for token in _BASE64.findall(visible):
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if decoded.isprintable():
            readings.append(decoded.lower())
    return readings


def _unspaced(text: str) -> str:
    """`i g n o r e` and `i.g.n.o.r.e` read as `ignore`."""
    return _SPACED.sub(lambda match: re.sub(r"[ .\-_*]", "", match.group()), text)


def _corrected(text: str) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group()
        return next(iter(difflib.get_close_matches(word, _KEYWORDS, n=1, cutoff=0.8)), word)

    return re.sub(r"\w{5,}", fix, text)


def _matches(text: str) -> list[tuple[str, float]]:
    return [(family, weight) for family, weight, pattern in PATTERNS if pattern.search(text)]

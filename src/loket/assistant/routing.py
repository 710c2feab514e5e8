"""What kind of message this is, decided by rules in Dutch, French, English and German.

Information questions go on to retrieval; the other routes answer at once. The rules look for what
a message *asks*: "waar staat mijn aanvraag" is about one's own case, "hoe dien ik mijn aanvraag in"
is an information question, so a possessive alone never routes.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

from loket.assistant import report_intent


class Route(StrEnum):
    INFORMATION = "information"
    GREETING = "greeting"
    HANDOFF = "handoff"
    OWN_CASE = "own_case"
    OWN_MESSAGES = "own_messages"
    ENTITLEMENTS = "entitlements"
    ACCESS_LOG = "access_log"
    REPORT = "report"
    OUT_OF_SCOPE = "out_of_scope"


def _rule(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)


_GREETING_WORDS = (
    r"hallo|hoi|hey|hi|hello|dag|daag|goedemorgen|goedemiddag|goedenavond|goeiedag|bonjour|bonsoir|salut"
    r"|coucou|guten (?:morgen|tag|abend)|moin|servus|good (?:morning|afternoon|evening)|dank(?:u| u| je)?(?: wel)?"
    r"|bedankt|merci(?: beaucoup)?|thanks?(?: you)?|thank you(?: very much)?|danke(?: schön| sehr)?|vielen dank"
    r"|ok|oké|okay|top|super|prima|perfect|parfait|toll|tot ziens|au revoir|bye|goodbye|tschüss|doei"
)
_HOW_ARE_YOU = r"hoe gaat het(?: met (?:je|jou|u))?|alles goed|how are you|how's it going|comment (?:ça|ca) va|ça va|wie geht(?:'s| es)?(?: dir| ihnen)?"
GREETING = re.compile(rf"^\W*(?:(?:{_GREETING_WORDS}|{_HOW_ARE_YOU})\W*){{1,3}}(?:\w+\W*)?$", re.IGNORECASE)

HANDOFF = _rule(
    r"\b(?:spreken|praten|chatten|bellen)\b.{0,25}\b(?:mens|medewerker|persoon|iemand|echte)\b",
    r"\b(?:mens|medewerker|persoon|iemand)\b.{0,25}\b(?:spreken|praten|chatten)\b",
    r"\b(?:echte|menselijke) (?:persoon|medewerker|mens)\b",
    r"\b(?:talk|speak|chat)\b.{0,20}\b(?:human|person|agent|someone|somebody|real|operator|advisor)\b",
    r"\b(?:human|real person|live agent)\b.{0,20}\b(?:please|now)\b",
    r"\bparler\b.{0,25}\b(?:humain|personne|conseill\w+|agent|quelqu'un|opérat\w+)\b",
    r"\b(?:mit|einen?)\b.{0,20}\b(?:menschen|mitarbeiter\w*|berater\w*|person)\b.{0,20}\b(?:sprechen|reden)\b",
    r"\b(?:bel|call|rappelez|ruf) (?:me|mij|moi|mich) (?:terug|back|zurück)\b",
    r"\b(?:verbind|doorverbind|doorverbinden|connect|transfer|put me through|mettez-moi en relation|passez-moi"
    r"|verbinden sie mich)\b.{0,30}\b(?:mens|medewerker|persoon|iemand|human|person|agent|someone|conseill\w+"
    r"|quelqu'un|humain|mitarbeiter\w*|menschen)\b",
    r"\b(?:met|with|avec|mit) (?:een|a|an|un|une|einem|einer) (?:echte |real |vrai |echten )?(?:mens|human|humain|menschen)\b",
)

_MY_CASE_NL = r"\bmijn \w*(?:aanvraag|aanvragen|dossier|dossiers|zaak|zaken|aangifte|uitbetaling|betaling|premie|uitkering|toelage|vergunning|klacht|bezwaar|aanslag|verhuizing|inschrijving|melding)\b"
_MY_CASE_EN = r"\bmy (?:application|applications|case|cases|claim|file|request|payment|tax return|benefit|permit|complaint|appeal)\b"
_MY_CASE_FR = r"\b(?:ma|mon|mes) (?:demande|demandes|dossier|dossiers|paiement|déclaration|prime|allocation|permis|plainte|recours)\b"
_MY_CASE_DE = r"\bmein(?:e|en|em)? (?:antrag|anträge|akte|fall|vorgang|zahlung|steuererklärung|leistung|genehmigung|beschwerde)\b"
_STATUS_CUE = (
    r"\b(?:waar staat|stand van zaken|status|hoe ver|al (?:behandeld|goedgekeurd|ontvangen|betaald|beslist|verwerkt|geregistreerd)"
    r"|al een (?:beslissing|besluit|antwoord|reactie)|nog (?:moet )?(?:betalen|terugbetalen|doen|opsturen|aanvullen)"
    r"|wanneer (?:krijg|ontvang|hoor) ik|moet ik nog|nog iets doen|is .{0,20}(?:goedgekeurd|behandeld|ontvangen"
    r"|betaald|afgekeurd)|where is|how far|been (?:approved|processed|received|paid)|when will i (?:get|hear|receive)"
    r"|do i (?:still )?need to|où en est|état|statut|traitée?|approuvée?|quand (?:vais-je|est-ce que je vais)"
    r"|dois-je encore|wo steht|stand|bearbeitet|genehmigt|wann bekomme ich|muss ich noch)"
)
OWN_CASE = _rule(
    rf"(?:{_MY_CASE_NL}|{_MY_CASE_EN}|{_MY_CASE_FR}|{_MY_CASE_DE}).*{_STATUS_CUE}",
    rf"{_STATUS_CUE}.*(?:{_MY_CASE_NL}|{_MY_CASE_EN}|{_MY_CASE_FR}|{_MY_CASE_DE})",
    r"\bmijn (?:lopende zaken|berichten|brieven|inbox|mandaten|volmachten|profiel)\b",
    r"\bmoet ik nog iets doen\b|\bwat weet de overheid over mij\b",
    r"\bmy (?:running cases|personal data|messages|letters|inbox|mandates|profile)\b|\bdo i still need to do\b",
    r"\b(?:mes données|mes messages|mes courriers|mes mandats|mon profil)\b|\bdois-je encore faire\b",
    r"\bmeine (?:daten|nachrichten|briefe|vollmachten)\b|\bmein profil\b|\bmuss ich noch etwas tun\b",
)

OWN_MESSAGES = _rule(
    r"\b(?:heb ik|zijn er|kreeg ik|heb ik ooit) (?:nog |al )?(?:nieuwe |ongelezen )?(?:berichten|bericht|brieven|post)\b",
    r"\bmijn (?:berichten|brieven|inbox|post)\b",
    r"\bwat (?:heeft|stuurde|schreef) .{1,60}\b(?:mij|me)\b.{0,20}(?:gestuurd|gezonden|geschreven|\?|$)",
    r"\b(?:do i have|have i got|did i get|are there) (?:any )?(?:new |unread )?(?:messages|letters|mail)\b",
    r"\bmy (?:messages|letters|inbox)\b|\bwhat did .{1,60} (?:send|write) (?:me|to me)\b",
    r"\b(?:ai-je|est-ce que j'ai|j'ai) (?:reçu )?(?:de |des )?(?:nouveaux )?(?:messages|courriers)\b",
    r"\bmes (?:messages|courriers)\b|\bqu'est-ce que .{1,60} m'a (?:envoyé|écrit)\b",
    r"\bhabe ich (?:neue |ungelesene )?(?:nachrichten|briefe|post)\b|\bmeine (?:nachrichten|briefe)\b",
    r"\bwas hat .{1,60} mir (?:geschickt|geschrieben)\b",
)

# What one is entitled to after a life event ("waar heb ik recht op na de geboorte van mijn dochter?"),
# or in general ("waar heb ik allemaal recht op?"): answered from the proactive rules. With another
# subject ("welke premie krijg ik als ik mijn huis renoveer?") it stays an information question.
_BENEFITS = r"(?:premies?|steun|voordelen|toelagen|toeslagen|uitkeringen|tegemoetkomingen|hulp)"
ENTITLED = _rule(
    r"\bwaar (?:heb|hebben|krijg|krijgen) (?:ik|we|wij|mijn \w+) (?:\w+ ){0,2}(?:recht|aanspraak) op\b",
    rf"\bop welke {_BENEFITS} (?:heb|hebben) (?:ik|we|wij) (?:\w+ ){{0,2}}recht\b",
    rf"\bwelke {_BENEFITS} (?:krijg|kan|kunnen|krijgen|mag) (?:ik|we|wij)\b",
    r"\bwhat (?:am i|are we|is my \w+) (?:\w+ ){0,2}entitled to\b",
    r"\bwhat (?:benefits|support|allowances|help) (?:can|could|do|may) (?:i|we) (?:get|claim|receive|have)\b",
    r"\bà quoi (?:ai-je|avons-nous|j'ai|on a|nous avons) (?:\w+ ){0,2}droit\b",
    r"\bquelles? (?:aides|primes|allocations|prestations) (?:puis-je|pouvons-nous|ai-je|vais-je)\b",
    r"\bworauf (?:habe ich|haben wir) (?:\w+ ){0,2}anspruch\b",
    r"\bwelche (?:leistungen|hilfen|zuschüsse|beihilfen) (?:bekomme|kann|können|bekommen) (?:ich|wir)\b",
)
LIFE_EVENTS = {
    "loket.birth.registered": r"geboren|geboorte|bevall|baby|pasgebor|born|birth|naissance|\bnée?s?\b"
    r"|accouch|geburt|entbind",
    "loket.person.turned-18": r"\b18\b|achttien|meerderjarig|eighteen|dix-huit|majeur|volljährig|achtzehn",
    "loket.address.changed": r"verhuis|verhuiz|nieuw adres|\bmov(?:e|ed|ing)\b|new address|déménag"
    r"|nouvelle adresse|umzug|umgezogen|neue adresse",
    "loket.partner.deceased": r"overl|gestorven|weduw|died|passed away|widow|décéd|décès|veu(?:f|ve)"
    r"|verstorben|witwe",
    "loket.enterprise.started": r"onderneming|zelfstandige|zaak (?:starten|begonnen)|eigen zaak|business"
    r"|company|entreprise|indépendant|unternehmen|selbständig|firma",
    "loket.unemployment.started": r"werkloos|ontslag|job kwijt|werk kwijt|unemploy|lost my job|chômage"
    r"|chômeur|licenci|arbeitslos|gekündigt",
}
_LIFE_EVENTS = {event: re.compile(words, re.IGNORECASE) for event, words in LIFE_EVENTS.items()}


def life_event(question: str) -> str | None:
    """The life event a question names (its CloudEvents type), if any."""
    return next((event for event, words in _LIFE_EVENTS.items() if words.search(question)), None)


def _about_entitlements(text: str) -> bool:
    found = ENTITLED.search(text)
    return bool(found) and (life_event(text) is not None or not text[found.end() :].strip(" ?!.¿"))


# Who used one's data ("wie heeft mijn gegevens bekeken?"): answered from the access log. The reader
# asked for ("wie", "welke instanties", "qui", "who", "wer") right before a use of one's data; "welke
# gegevens heb ik nodig", "wie heeft mijn gegevens nodig" and "who do I call if someone used my data"
# stay questions for the catalogue (and German "wie" is "how").
_MY_DATA_NL = r"mijn (?:persoons)?(?:gegevens|data|dossier|informatie)"
_MY_DATA_FR = r"(?:mes|à mes) (?:données|informations|infos|dossiers?)"
_MY_DATA_EN = r"my (?:personal )?(?:data|details|information|info|records?|file)"
_MY_DATA_DE = r"(?:meine|meinen|in meine|auf meine) (?:persönlichen )?(?:daten|angaben|akte)"
_SEEN_NL = (
    r"bekeken|ingekeken|ingezien|gezien|gekeken|geraadpleegd|opgevraagd|gebruikt|opgezocht|gelezen"
    r"|bekeek|bekijkt|raadpleegde|raadpleegt|gebruikte|zag|ziet|keek|kijkt|las|leest"
)
_SEEN_EN = (
    r"looked (?:at|into|up)|viewed|accessed|used|seen|read|checked|consulted|opened|requested|had access to"
    r"|has had access to|is looking at|was looking at"
)
_SEEN_FR = r"consulté|vu|regardé|utilisé|accédé|eu accès|lu|demandé|consulte|regarde|utilise|accède"
_SEEN_DE = (
    r"eingesehen|angesehen|gesehen|abgerufen|genutzt|verwendet|benutzt|angeschaut|gelesen|zugegriffen"
    r"|zugriff gehabt|einsicht genommen|sah|sieht|nutzt|liest|verwendet"
)
ACCESS_LOG = _rule(
    rf"\b(?:wie|welke \w+) (?:heeft|hebben|had|hadden)(?: \w+){{0,2}} (?:naar |in )?{_MY_DATA_NL}\b"
    rf"(?: \w+){{0,3}} (?:{_SEEN_NL})\b",
    rf"\bwie (?:{_SEEN_NL})(?: er)? (?:naar |in )?{_MY_DATA_NL}\b",
    rf"\bwie (?:heeft|hebben|had|hadden)(?: er)?(?: \w+)? toegang(?: gehad)? tot {_MY_DATA_NL}\b",
    rf"\b(?:who|which \w+) (?:has |have |had |is |was )?(?:\w+ )?(?:{_SEEN_EN}) {_MY_DATA_EN}\b",
    rf"\b(?:qui|quel(?:le)?s? \w+) (?:a|ont|avait|est-ce qui a)(?: \w+)? (?:{_SEEN_FR})\b.{{0,12}}{_MY_DATA_FR}\b",
    rf"\bqui (?:{_SEEN_FR})\b.{{0,12}}{_MY_DATA_FR}\b",
    rf"\b(?:wer|welche \w+) (?:hat|haben|hatte|hatten)(?: \w+){{0,2}} {_MY_DATA_DE}\b(?: \w+){{0,3}} (?:{_SEEN_DE})\b",
    rf"\bwer (?:{_SEEN_DE})\b.{{0,12}}{_MY_DATA_DE}\b",
    rf"\bwer (?:hat|hatte|hatten)(?: \w+)? (?:einsicht|zugriff) {_MY_DATA_DE}\b",
    r"\b(?:toegangslog|toegangslogboek|inzagelog|access log|journal des accès|zugriffsprotokoll)\b",
)


def _about_accesses(text: str) -> bool:
    return bool(ACCESS_LOG.search(text))


OUT_OF_SCOPE = _rule(
    # Elections and opinions: a public assistant takes no side.
    r"\b(?:op|voor) welke partij\b|\bop wie (?:moet|zal|kan) ik stemmen\b|\bwie (?:moet|zal) ik stemmen\b",
    r"\bwie (?:wordt|wint) (?:de )?(?:volgende )?(?:premier|minister-president|president|verkiezingen)\b"
    r"|\bwho will (?:win|be)\b.{0,30}\b(?:election|prime minister|president)\b"
    r"|\bqui (?:sera|va gagner)\b.{0,30}\b(?:élections?|premier ministre|président)\b"
    r"|\bwer wird (?:der )?(?:nächste )?(?:kanzler|bundeskanzler|präsident)\b|\bwer gewinnt die wahl\b",
    r"\bwho should i vote\b|\bwhich party\b|\bpour qui (?:voter|dois-je voter)\b|\bquel parti\b",
    r"\bwen soll ich wählen\b|\bwelche partei\b",
    r"\bwat vind (?:je|jij|u)\b|\bwat is (?:je|jouw|uw) mening\b|\bwhat do you think\b|\byour opinion\b"
    r"|\bqu'en penses-tu\b|\bque penses-tu\b|\bton avis\b|\bvotre avis\b|\bwas hältst du\b|\bdeine meinung\b",
    # Chit-chat and general knowledge.
    r"\b(?:vertel|tell me|raconte|erzähl)\b.{0,15}\b(?:mop|grap|joke|blague|witz)\b",
    r"\b(?:schrijf|write|écris|schreib)\b.{0,20}\b(?:gedicht|verhaal|lied|poem|story|song|essay|poème|histoire"
    r"|chanson|geschichte)\b",
    r"\b(?:weerbericht|weersverwachting|welk weer|wat voor weer|weather|météo|wetter)\b",
    r"\b(?:recept|recipe|recette|rezept)\b",
    r"\bhoofdstad van\b|\bcapital of\b|\bcapitale d[eu']|\bhauptstadt von\b",
    r"\b(?:voetbal|football|soccer|fußball)\b.{0,30}\b(?:uitslag|score|gewonnen|won|gagné|gewonnen)\b",
    r"\b(?:bitcoin|crypto\w*|aandelen kopen|buy shares|acheter des actions|aktien kaufen)\b",
    r"\bzin van het leven\b|\bmeaning of life\b|\bsens de la vie\b|\bsinn des lebens\b",
)


def route(question: str) -> Route:
    text = unicodedata.normalize("NFKC", question).strip()
    if GREETING.match(text):
        return Route.GREETING
    if HANDOFF.search(text):
        return Route.HANDOFF
    if _about_entitlements(text):
        return Route.ENTITLEMENTS
    if _about_accesses(text):
        return Route.ACCESS_LOG
    if OWN_MESSAGES.search(text):
        return Route.OWN_MESSAGES
    if OWN_CASE.search(text):
        return Route.OWN_CASE
    if report_intent.category(text):
        return Route.REPORT
    if OUT_OF_SCOPE.search(text):
        return Route.OUT_OF_SCOPE
    return Route.INFORMATION

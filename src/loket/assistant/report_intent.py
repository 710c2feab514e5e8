"""A problem in public space ("er ligt een put in mijn straat"): offered a report, not a search.

A report needs a thing of public space (a street light, the road, a drain, litter) *and* something
wrong with it (broken, a hole, blocked, dumped), or a word that is a problem in itself ("pothole",
"sluikstort"), or asking to report ("melden") a thing or a place. A question about a service around
it ("can I claim for a tyre a pothole damaged", "heb ik een vergunning nodig om een boom te kappen")
stays an information question, unless it asks to report. Written from the categories' vocabulary
(reports/categories.yaml) in Dutch, French, English and German; the ids are the shipped list's, so a
deployment with other ids gets its "other" category, or no offer.
"""

from __future__ import annotations

import re
import unicodedata

OTHER = "other"
REPORT_PAGE = "/melden"  # the reports block's page (`loket.web.reports`); takes `categorie`


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


_GENERIC_PROBLEM = (
    r"kapot\w*|stuk|defect\w*|beschadigd\w*|gebroken|vernield|(?:werkt|werken|doet|doen) (?:het )?niet"
    r"|gevaarlijk\w*|omgevallen|omgewaaid|afgebroken|verstopt|los|loszittend\w*|losliggend\w*|verzakt"
    r"|scheur\w*|gat|gaten|kuil\w*",
    r"cass[ée]e?s?|en panne|ne (?:fonctionne|marche)(?:nt)? (?:plus|pas)|endommag\w+|défectueu\w+|abîm\w+"
    r"|dangereu\w+|tomb[ée]e?s?|arrach[ée]e?s?|bouch[ée]e?s?|trous?|fissur\w+|renvers[ée]e?s?|descell\w+"
    r"|vandalis\w+",
    r"broken|not working|(?:doesn'?t|don'?t|isn'?t|aren'?t) working|damaged|dangerous|fallen"
    r"|fell (?:down|over)|knocked (?:down|over)|blocked|clogged|loose|cracked|holes?|smashed|vandali[sz]ed",
    r"kaputt\w*|defekt\w*|funktionier\w* nicht|geht nicht|beschädigt\w*|gefährlich\w*|umgestürzt\w*"
    r"|umgefallen\w*|umgekippt\w*|abgebrochen\w*|verstopft\w*|locker\w*|gebrochen\w*|loch|löcher|risse?"
    r"|zerstört\w*|ausgefallen\w*",
)
# Per category, in the order tried: the more specific thing first (a drain "in the road" is a drain).
# Each: the things, what can be wrong with them besides the generic problems (None: only these),
# and words that are a problem in themselves.
_CATEGORIES: tuple[tuple[str, re.Pattern[str], re.Pattern[str], re.Pattern[str] | None], ...] = (
    (
        "street-light",
        _words(
            r"straat(?:lamp|licht|verlichting)\w*|lantaarn\w*|verlichtingspa\w+|lichtpa\w+"
            r"|openbare verlichting",
            r"lampadaires?|réverbères?|éclairage public|luminaires?",
            r"street ?lights?|street ?lamps?|street lighting|lamp ?posts?",
            r"straßen(?:laterne|lampe|beleuchtung)\w*|laternen?",
        ),
        _words(
            *_GENERIC_PROBLEM,
            r"(?:is|zijn|staat|staan|blijft|blijven) (?:\w+ ){0,2}uit|uitgevallen|valt \w* ?uit"
            r"|brand(?:t|en) (?:\w+ )?niet|gaa?t (?:\w+ )?niet (?:meer )?aan|flikker\w*|knipper\w*",
            r"ne s'allume(?:nt)? (?:plus|pas)|éteints?|clignot\w+",
            r"(?:is|are|been|gone|went) (?:\w+ ){0,2}out|flicker\w*|(?:isn'?t|aren'?t|not) (?:on|lit)",
            r"(?:ist|sind|bleibt|bleiben) (?:\w+ ){0,2}aus|brenn\w* (?:\w+ )?nicht|flacker\w*"
            r"|leuchte\w* nicht",
        ),
        None,
    ),
    (
        "traffic-sign",
        _words(
            r"verkeersbord\w*|verkeerslicht\w*|stoplicht\w*|(?:stop|voorrangs|snelheids|straatnaam)bord\w*",
            r"panneaux?(?! solaires?| photovolta)(?: de signalisation| stop)?"
            r"|feux? (?:de signalisation|tricolores?)",
            r"traffic (?:lights?|signals?|signs?)|road signs?|stop signs?",
            r"verkehrs(?:schild|zeichen)\w*|ampel\w*|stoppschild\w*|straßenschild\w*",
        ),
        _words(
            *_GENERIC_PROBLEM,
            r"omver\w*|scheef|verdwenen|onleesbaar|knipper\w*",
            r"tordu\w*|disparu\w*|illisible\w*|clignot\w+",
            r"bent|missing|stuck on (?:red|green)|flashing",
            r"umgefahren|verbogen|fehlt|blinkt",
        ),
        None,
    ),
    (
        "drain",
        _words(
            r"rioolkolk\w*|straatkolk\w*|kolk(?:en)?|rioolput\w*|putdeksel\w*|riooldeksel\w*|riool|goot|goten",
            r"avaloirs?|égouts?|bouches? d'égout|caniveaux?|grilles? d'égout|plaques? d'égout",
            r"drains?|gull(?:y|ies)|sewers?|manholes?|manhole covers?",
            r"gull(?:y|ys)|gullydeckel\w*|kanaldeckel\w*|abfluss\w*|straßenablauf\w*",
        ),
        _words(
            *_GENERIC_PROBLEM,
            r"overstroomt|loopt over|staat (?:\w+ )?(?:blank|onder water)|wateroverlast|stinkt",
            r"débord\w+|inond\w+|obstru\w+",
            r"overflow\w*|flood\w*|stinks?",
            r"läuft über|überschwemm\w+|überflut\w+|stinkt|fehlt",
        ),
        None,
    ),
    (
        "dumping",
        _words(
            r"afval|vuil|vuilniszak\w*|vuilnis|huisvuil|grofvuil|matras\w*|puin|rommel|koelkast|zetel",
            r"déchets?|ordures|sacs? poubelles?|poubelles?|gravats|encombrants|frigo|matelas|canapé",
            r"rubbish|waste|trash|litter|garbage|bin bags?|mattress(?:es)?|sofa|rubble|fridge",
            r"müll\w*|abfall\w*|sperrmüll|bauschutt|matratze\w*|kühlschrank|sofa",
        ),
        _words(
            r"gedumpt|gedropt|achtergelaten|gestort|neergegooid|neergezet|rondslinger\w*|ligt (?:\w+ )?rond",
            r"abandonn\w+|jet[ée]e?s?|déposé\w*|balancé\w*|traîn\w+",
            r"dumped|dumping|abandoned|tipped|thrown|lying around|strewn|left (?:behind|on|in|at|by|next to)",
            r"abgeladen|abgelegt|abgestellt|entsorgt|herumliegen\w*|liegt (?:\w+ )?herum|weggeworfen",
        ),
        _words(
            r"sluikstort\w*|zwerfvuil|zwerfafval",
            r"dépôts? (?:clandestins?|sauvages?)|décharges? sauvages?|déchets sauvages",
            r"fly-?tip\w*|illegal(?:ly)? dump\w*",
            r"illegale? (?:müll)?ablagerung\w*|wilde[rnm]? müll\w*",
        ),
    ),
    (
        "graffiti",
        _words(r"graffiti|vandalisme|vandalism|vandalismus|bekladding"),
        _words(
            r"beklad|gespoten|vol|overal|op (?:de|het|onze|ons|mijn)",
            r"tagu\w+|couverte?s?|partout|sur (?:le|la|les|notre|nos|mon|ma)",
            r"sprayed|spray-painted|all over|covered|on (?:the|our|my)",
            r"beschmiert|gesprüht|überall|an (?:der|die|dem|unserer|unserem)",
        ),
        None,
    ),
    (
        "greenery",
        _words(
            r"boom|bomen|tak|takken|haag|hagen|struik\w*|onkruid|plantsoen",
            r"arbres?|branches?|haies?|buissons?|mauvaises herbes",
            r"trees?|branch(?:es)?|hedges?|bushes|weeds",
            r"baum|bäume|äste?|hecken?|sträucher|unkraut",
        ),
        _words(
            *_GENERIC_PROBLEM,
            r"hangt over|overwoekerd|belemmert|blokkeert|ligt (?:nu )?(?:op|over|midden)",
            r"envahi\w*|bloqu\w+",
            r"fell|down|blocking|overgrown|overhanging|broken off",
            r"blockier\w*|überwuchert|ragt",
        ),
        None,
    ),
    (
        "pavement",
        _words(
            r"voetpad\w*|stoep\w*|trottoir\w*|fietspad\w*|stoeptegel\w*|tegels?",
            r"trottoirs?|pistes? cyclables?|pavés?|dalles?",
            r"pavements?|sidewalks?|footpaths?|cycle (?:paths?|lanes?)|bike (?:paths?|lanes?)"
            r"|paving (?:stones?|slabs?)|kerbs?",
            r"gehweg\w*|bürgersteig\w*|radweg\w*|gehwegplatte\w*|pflaster\w*|bordstein\w*",
        ),
        _words(
            *_GENERIC_PROBLEM,
            r"liggen los|ligt los|zit(?:ten)? los|scheef|omhoog|struikel\w*",
            r"soulev\w+",
            r"uneven|raised|trip(?:s|ped|ping)?",
            r"uneben|stolper\w*",
        ),
        None,
    ),
    (
        "road-surface",
        _words(
            r"straat|straten|wegdek|rijbaan|rijweg|asfalt|(?:in|op) de weg",
            r"rue|route|chaussée|asphalte",
            r"road|street|tarmac|asphalt",
            r"straße|fahrbahn|asphalt|straßenbelag",
        ),
        _words(
            r"(?:een|de|grote|diepe|flinke) put|putten|gat|gaten|kuil\w*|scheur\w*|verzakt\w*"
            r"|beschadigd\w*|kapot",
            r"trous?|fissur\w+|affaiss\w+|endommag\w+|abîm\w+|défonc\w+",
            r"holes?|crack\w*|damaged|sunk(?:en)?|subsided|broken up",
            r"loch|löcher|riss\w*|beschädigt\w*|abgesackt|kaputt\w*",
        ),
        _words(r"nids?[- ]de[- ]poule|potholes?|schlagl(?:och|öcher)"),
    ),
)
# A question about a service around the problem: a premium, a permit, a claim, a fine, what is allowed.
_ABOUT_A_SERVICE = _words(
    r"premie\w*|subsidie\w*|vergunning\w*|aanvra\w+|belasting\w*|verzekering\w*|\w*vergoeding|boete\w*"
    r"|kost|kosten|tarief|mag ik|wie betaalt|aansprakelijk\w*",
    r"primes?|subsides?|subvention\w*|permis|autorisation\w*|taxes?|assurance\w*|indemni\w+|dédommag\w+"
    r"|amendes?|coût\w*|combien|tarifs?|puis-je|ai-je le droit",
    r"grants?|subsid\w+|permits?|permission|apply|application|tax|insurance|compensation|claim\w*|fines?"
    r"|costs?|how much|liable|allowed to|may i",
    r"zuschuss\w*|förder\w+|genehmigung\w*|antrag\w*|beantrag\w+|steuer\w*|versicherung\w*|schadenersatz"
    r"|entschädigung\w*|bußgeld\w*|kosten|kostet|darf ich|wie viel",
)
_REPORT = _words(
    r"meld(?:en|ing)?|melding maken|signaleren|doorgeven",
    r"signal(?:er|ement)",
    r"report(?:ing)?",
    r"melde|meldung",
)
_PUBLIC_PLACE = _words(
    r"openbare ruimte|straat|buurt|park|speeltuin|plein",
    r"espace public|rue|quartier|parc|aire de jeux",
    r"public space|street|road|neighbou?rhood|park|playground",
    r"öffentlichen raum|straße|viertel|park|spielplatz",
)


def category(question: str) -> str | None:
    """The id of the report category a message reports a problem in, `other` when it asks to report
    something in public space no category names; None when it reports nothing."""
    text = unicodedata.normalize("NFKC", question)
    asks_to_report = bool(_REPORT.search(text))
    if _ABOUT_A_SERVICE.search(text) and not asks_to_report:
        return None
    for category_id, things, problems, in_itself in _CATEGORIES:
        if in_itself and in_itself.search(text):
            return category_id
        if things.search(text) and (asks_to_report or problems.search(text)):
            return category_id
    if asks_to_report and _PUBLIC_PLACE.search(text):
        return OTHER
    return None

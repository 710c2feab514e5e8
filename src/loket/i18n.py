"""Interface languages and the fixed texts of answers, Dutch first.

The texts here are part of answers (stored with them, checked by the assistant's tests); the text of
the pages themselves lives in the web block's gettext catalogues (`loket/web/locales`).
"""

from __future__ import annotations

LANGUAGES = ("nl", "fr", "en", "de")

MESSAGES: dict[str, dict[str, str]] = {
    "ai_label": {
        "nl": "Dit antwoord komt van een A.I.-assistent. Controleer het bij de bron.",
        "fr": "Cette réponse vient d'un assistant d'I.A. Vérifiez-la auprès de la source.",
        "en": "This answer comes from an A.I. assistant. Check it against the source.",
        "de": "Diese Antwort stammt von einem KI-Assistenten. Prüfen Sie sie anhand der Quelle.",
    },
    "from_organisation": {
        "nl": "Informatie van {organisation}.",
        "fr": "Information de {organisation}.",
        "en": "Information from {organisation}.",
        "de": "Information von {organisation}.",
    },
    "unanswerable": {
        "nl": "Daarover vind ik geen betrouwbare informatie. Probeer uw vraag anders te stellen "
        "of neem contact op met de Vlaamse infolijn op het gratis nummer {infoline}.",
        "fr": "Je ne trouve pas d'information fiable à ce sujet. Reformulez votre question "
        "ou contactez la ligne d'information flamande au numéro gratuit {infoline}.",
        "en": "I cannot find reliable information about that. Try asking in another way "
        "or call the Flemish information line on the free number {infoline}.",
        "de": "Dazu finde ich keine verlässlichen Informationen. Formulieren Sie Ihre Frage anders "
        "oder rufen Sie die flämische Infolinie unter der kostenlosen Nummer {infoline} an.",
    },
    "personal_data": {
        "nl": "Uw vraag bevat persoonlijke gegevens, zoals een rijksregisternummer, rekeningnummer, "
        "telefoonnummer of e-mailadres. Die verwerk ik niet, om uw privacy te beschermen. Stel uw vraag "
        "opnieuw zonder die gegevens. Gaat het over uw eigen dossier? Meld u dan aan.",
        "fr": "Votre question contient des données personnelles, comme un numéro de registre national, "
        "un numéro de compte, de téléphone ou une adresse e-mail. Je ne les traite pas, pour protéger "
        "votre vie privée. Posez votre question sans ces données. "
        "S'il s'agit de votre dossier, connectez-vous.",
        "en": "Your question contains personal details, such as a national number, bank account, phone "
        "number or e-mail address. I do not process them, to protect your privacy. Ask again without "
        "them. Is it about your own case? Then log in.",
        "de": "Ihre Frage enthält persönliche Daten, etwa eine Nationalregisternummer, Kontonummer, "
        "Telefonnummer oder E-Mail-Adresse. Diese verarbeite ich nicht, um Ihre Privatsphäre zu schützen. "
        "Stellen Sie Ihre Frage ohne diese Daten. Geht es um Ihre eigene Akte? Dann melden Sie sich an.",
    },
    "crisis_suicide": {
        "nl": "Wat naar dat u zich zo voelt. U hoeft hier niet alleen mee te blijven: bel gratis en "
        "anoniem de Zelfmoordlijn op {suicide_line}, dag en nacht. Bent u of is iemand in direct gevaar? "
        "Bel {emergency}.",
        "fr": "Je suis désolé que vous vous sentiez ainsi. Vous n'êtes pas seul : appelez gratuitement et "
        "anonymement la ligne de prévention du suicide au {suicide_line}, jour et nuit. En danger immédiat, "
        "appelez le {emergency}.",
        "en": "I am sorry you feel this way. You do not have to face this alone: call the suicide "
        "prevention line on {suicide_line}, free and anonymous, day and night. If you or someone is in "
        "immediate danger, call {emergency}.",
        "de": "Es tut mir leid, dass es Ihnen so geht. Sie müssen das nicht allein tragen: Rufen Sie "
        "kostenlos und anonym die Suizidpräventionslinie unter {suicide_line} an, Tag und Nacht. Bei "
        "akuter Gefahr rufen Sie {emergency} an.",
    },
    "crisis_emergency": {
        "nl": "Is er gevaar voor iemands leven, gezondheid of veiligheid? Bel meteen {emergency}. "
        "Dat nummer is gratis en dag en nacht bereikbaar.",
        "fr": "Une vie, la santé ou la sécurité de quelqu'un est en danger ? Appelez immédiatement le "
        "{emergency}, gratuit et joignable jour et nuit.",
        "en": "Is someone's life, health or safety in danger? Call {emergency} now. It is free and "
        "answers day and night.",
        "de": "Ist das Leben, die Gesundheit oder die Sicherheit von jemandem in Gefahr? Rufen Sie sofort "
        "{emergency} an, kostenlos und rund um die Uhr.",
    },
    "abuse": {
        "nl": "Dat doe ik niet. Ik beantwoord vragen over de dienstverlening van de overheid, op basis van "
        "officiële informatie. Stel gerust een vraag daarover.",
        "fr": "Je ne le ferai pas. Je réponds aux questions sur les services publics, sur la base "
        "d'informations officielles. N'hésitez pas à poser une question à ce sujet.",
        "en": "I will not do that. I answer questions about public services, based on official "
        "information. Feel free to ask about those.",
        "de": "Das mache ich nicht. Ich beantworte Fragen zu öffentlichen Dienstleistungen auf Grundlage "
        "offizieller Informationen. Fragen Sie gerne dazu.",
    },
    "empty_question": {
        "nl": "Stel een vraag.",
        "fr": "Posez une question.",
        "en": "Please ask a question.",
        "de": "Bitte stellen Sie eine Frage.",
    },
    "question_too_long": {
        "nl": "Uw vraag is te lang. Houd het bij {limit} tekens.",
        "fr": "Votre question est trop longue. Limitez-vous à {limit} caractères.",
        "en": "Your question is too long. Keep it under {limit} characters.",
        "de": "Ihre Frage ist zu lang. Bitte höchstens {limit} Zeichen.",
    },
    "greeting": {
        "nl": "Dag! Ik ben de digitale assistent van de overheid, een A.I.-assistent. Stel gerust uw vraag "
        "over een dienst, een premie, een attest of een vergunning.",
        "fr": "Bonjour ! Je suis l'assistant numérique des services publics, un assistant d'I.A. Posez votre "
        "question sur un service, une prime, une attestation ou un permis.",
        "en": "Hello! I am the government's digital assistant, an A.I. assistant. Ask me about a public "
        "service, a benefit, a certificate or a permit.",
        "de": "Guten Tag! Ich bin der digitale Assistent der Behörden, ein KI-Assistent. Fragen Sie mich zu "
        "einer Dienstleistung, einer Prämie, einer Bescheinigung oder einer Genehmigung.",
    },
    "out_of_scope": {
        "nl": "Daar kan ik u niet mee helpen. Ik beantwoord alleen vragen over de dienstverlening van de "
        "overheid, zoals documenten, premies, belastingen, vergunningen en uitkeringen.",
        "fr": "Je ne peux pas vous aider pour cela. Je réponds uniquement aux questions sur les services "
        "publics : documents, primes, impôts, permis et allocations.",
        "en": "I cannot help with that. I only answer questions about public services, such as documents, "
        "benefits, taxes, permits and allowances.",
        "de": "Dabei kann ich nicht helfen. Ich beantworte nur Fragen zu öffentlichen Dienstleistungen, etwa "
        "zu Dokumenten, Prämien, Steuern, Genehmigungen und Leistungen.",
    },
    "handoff": {
        "nl": "U wilt met een medewerker spreken. Bel de Vlaamse infolijn op het gratis nummer {infoline}, "
        "op werkdagen van 9 tot 19 uur. Vertel daar kort uw vraag; u hoeft niets van dit gesprek te herhalen "
        "dat u niet wilt delen.",
        "fr": "Vous souhaitez parler à un agent. Appelez la ligne d'information flamande au numéro gratuit "
        "{infoline}, les jours ouvrables de 9 h à 19 h.",
        "en": "You would like to talk to a person. Call the Flemish information line on the free number "
        "{infoline}, on working days from 9 am to 7 pm.",
        "de": "Sie möchten mit einem Mitarbeiter sprechen. Rufen Sie die flämische Infolinie unter der "
        "kostenlosen Nummer {infoline} an, werktags von 9 bis 19 Uhr.",
    },
    "needs_login": {
        "nl": "Dat gaat over uw eigen dossier of gegevens. Meld u aan, dan kan ik het voor u opzoeken.",
        "fr": "Cela concerne votre propre dossier ou vos données. Connectez-vous et je pourrai le consulter.",
        "en": "That is about your own case or data. Log in and I can look it up for you.",
        "de": "Das betrifft Ihre eigene Akte oder Ihre Daten. Melden Sie sich an, dann kann ich nachsehen.",
    },
    "maintenance": {
        "nl": "De assistent is tijdelijk niet beschikbaar: {reason}. Probeer het later opnieuw.",
        "fr": "L'assistant est temporairement indisponible : {reason}. Réessayez plus tard.",
        "en": "The assistant is temporarily unavailable: {reason}. Please try again later.",
        "de": "Der Assistent ist vorübergehend nicht verfügbar: {reason}. Bitte versuchen Sie es später.",
    },
    "unknown_conversation": {
        "nl": "Dit gesprek bestaat niet (meer). Begin een nieuw gesprek.",
        "fr": "Cette conversation n'existe pas (ou plus). Commencez-en une nouvelle.",
        "en": "This conversation does not exist (any more). Start a new one.",
        "de": "Dieses Gespräch existiert nicht (mehr). Beginnen Sie ein neues.",
    },
    "bad_rating": {
        "nl": "Geef uw oordeel als 'up' of 'down'.",
        "fr": "Donnez votre avis avec « up » ou « down ».",
        "en": "Give your rating as 'up' or 'down'.",
        "de": "Geben Sie Ihre Bewertung als 'up' oder 'down' an.",
    },
    "too_many_requests": {
        "nl": "U stelt veel vragen kort na elkaar. Wacht {seconds} seconden en probeer opnieuw.",
        "fr": "Vous posez beaucoup de questions en peu de temps. Attendez {seconds} secondes et réessayez.",
        "en": "You are asking many questions in a short time. Wait {seconds} seconds and try again.",
        "de": "Sie stellen viele Fragen in kurzer Zeit. Warten Sie {seconds} Sekunden und versuchen Sie "
        "es erneut.",
    },
    "other_language": {
        "nl": "Deze informatie bestaat alleen in het {language}.",
        "fr": "Cette information n'existe qu'en {language}.",
        "en": "This information is only available in {language}.",
        "de": "Diese Information gibt es nur auf {language}.",
    },
    "lang_nl": {"nl": "Nederlands", "fr": "néerlandais", "en": "Dutch", "de": "Niederländisch"},
    "lang_fr": {"nl": "Frans", "fr": "français", "en": "French", "de": "Französisch"},
    "lang_en": {"nl": "Engels", "fr": "anglais", "en": "English", "de": "Englisch"},
    "lang_de": {"nl": "Duits", "fr": "allemand", "en": "German", "de": "Deutsch"},
}


def negotiate(language: str | None, default: str = "nl") -> str:
    """The interface language closest to `language` (a tag like `fr-BE`), else the default."""
    primary = (language or "").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else default


def message(key: str, language: str, /, **values: str) -> str:
    """The text `key` in `language`, else Dutch; positional-only, so `language=` can be one of the values."""
    texts = MESSAGES[key]
    return texts.get(language, texts["nl"]).format(**values)


def language_name(code: str, in_language: str) -> str:
    """'nl' as the reader of `in_language` calls it; the code itself for languages we have no name for."""
    names = MESSAGES.get(f"lang_{code}")
    return names.get(in_language, names["nl"]) if names else code

"""Interface languages and the fixed texts of answers, Dutch first.

A small table for now; the web issue moves interface text to Babel catalogues.
"""

from __future__ import annotations

LANGUAGES = ("nl", "fr", "en", "de")

MESSAGES: dict[str, dict[str, str]] = {
    "tagline": {
        "nl": "Stel uw vraag over de dienstverlening van de overheid.",
        "fr": "Posez votre question sur les services publics.",
        "en": "Ask your question about public services.",
        "de": "Stellen Sie Ihre Frage zu öffentlichen Dienstleistungen.",
    },
    "question_label": {"nl": "Uw vraag", "fr": "Votre question", "en": "Your question", "de": "Ihre Frage"},
    "ask_button": {"nl": "Vraag", "fr": "Demander", "en": "Ask", "de": "Fragen"},
    "sources": {"nl": "Bronnen", "fr": "Sources", "en": "Sources", "de": "Quellen"},
    "last_modified": {
        "nl": "Laatst gewijzigd",
        "fr": "Dernière modification",
        "en": "Last updated",
        "de": "Zuletzt geändert",
    },
    "source": {"nl": "Bron", "fr": "Source", "en": "Source", "de": "Quelle"},
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
        "of neem contact op met de Vlaamse infolijn op het gratis nummer 1700.",
        "fr": "Je ne trouve pas d'information fiable à ce sujet. Reformulez votre question "
        "ou contactez la ligne d'information flamande au numéro gratuit 1700.",
        "en": "I cannot find reliable information about that. Try asking in another way "
        "or call the Flemish information line on the free number 1700.",
        "de": "Dazu finde ich keine verlässlichen Informationen. Formulieren Sie Ihre Frage anders "
        "oder rufen Sie die flämische Infolinie unter der kostenlosen Nummer 1700 an.",
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
}


def negotiate(language: str | None, default: str = "nl") -> str:
    """The interface language closest to `language` (a tag like `fr-BE`), else the default."""
    primary = (language or "").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else default


def message(key: str, language: str, **values: str) -> str:
    texts = MESSAGES[key]
    return texts.get(language, texts["nl"]).format(**values)

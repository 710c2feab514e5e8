"""Interface languages and the fixed texts of answers and API errors, Dutch first.

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
    "not_logged_in": {
        "nl": "U bent niet (meer) aangemeld. Meld u aan en probeer het opnieuw.",
        "fr": "Vous n'êtes pas (plus) connecté. Connectez-vous et réessayez.",
        "en": "You are not logged in (any more). Log in and try again.",
        "de": "Sie sind nicht (mehr) angemeldet. Melden Sie sich an und versuchen Sie es erneut.",
    },
    "json_required": {
        "nl": "Stuur deze aanvraag als JSON (Content-Type: application/json).",
        "fr": "Envoyez cette requête en JSON (Content-Type: application/json).",
        "en": "Send this request as JSON (Content-Type: application/json).",
        "de": "Senden Sie diese Anfrage als JSON (Content-Type: application/json).",
    },
    "role_required": {
        "nl": "Daarvoor hebt u geen toegang. Vraag de beheerder om de rol {role}.",
        "fr": "Vous n'avez pas accès à cette fonction. Demandez le rôle {role} à l'administrateur.",
        "en": "You do not have access to this. Ask the administrator for the role {role}.",
        "de": "Dafür haben Sie keinen Zugang. Bitten Sie die Verwaltung um die Rolle {role}.",
    },
    "login_failed": {
        "nl": "Het aanmelden is niet gelukt. Probeer het opnieuw. "
        "Lukt het nog altijd niet, bel dan {infoline}.",
        "fr": "La connexion a échoué. Réessayez. Si cela ne fonctionne toujours pas, appelez le {infoline}.",
        "en": "Logging in did not work. Please try again. If it still fails, call {infoline}.",
        "de": "Die Anmeldung ist fehlgeschlagen. Versuchen Sie es erneut. Klappt es weiterhin nicht, "
        "rufen Sie {infoline} an.",
    },
    "login_cancelled": {
        "nl": "U hebt het aanmelden afgebroken. U kunt de assistent ook zonder aanmelden gebruiken.",
        "fr": "Vous avez annulé la connexion. Vous pouvez aussi utiliser l'assistant sans vous connecter.",
        "en": "You cancelled logging in. You can also use the assistant without logging in.",
        "de": "Sie haben die Anmeldung abgebrochen. Sie können den Assistenten auch ohne Anmeldung nutzen.",
    },
    "unknown_demo_person": {
        "nl": "Die demopersoon bestaat niet. Kies een persoon uit de lijst.",
        "fr": "Cette personne de démonstration n'existe pas. Choisissez une personne dans la liste.",
        "en": "That demo person does not exist. Choose a person from the list.",
        "de": "Diese Demo-Person gibt es nicht. Wählen Sie eine Person aus der Liste.",
    },
    "profile_not_held": {
        "nl": "U kunt niet in dat profiel optreden. Kies een van uw eigen profielen.",
        "fr": "Vous ne pouvez pas agir dans ce profil. Choisissez l'un de vos propres profils.",
        "en": "You cannot act in that profile. Choose one of your own profiles.",
        "de": "In diesem Profil können Sie nicht handeln. Wählen Sie eines Ihrer eigenen Profile.",
    },
    "mandates_as_self": {
        "nl": "Volmachten beheert u alleen in uw eigen naam. Kies eerst het profiel 'als uzelf'.",
        "fr": "Vous ne gérez les mandats qu'en votre propre nom. "
        "Choisissez d'abord le profil à titre personnel.",
        "en": "You manage mandates only in your own name. Switch to acting as yourself first.",
        "de": "Vollmachten verwalten Sie nur im eigenen Namen. Wechseln Sie zuerst zu Ihrem eigenen Profil.",
    },
    "bad_national_number": {
        "nl": "Dat is geen geldig rijksregisternummer. Het heeft 11 cijfers; "
        "kijk het na op de identiteitskaart.",
        "fr": "Ce n'est pas un numéro de registre national valable. Il a 11 chiffres ; "
        "vérifiez-le sur la carte d'identité.",
        "en": "That is not a valid national number. It has 11 digits; check it on the identity card.",
        "de": "Das ist keine gültige Nationalregisternummer. Sie hat 11 Ziffern; prüfen Sie sie auf dem "
        "Personalausweis.",
    },
    "mandate_to_self": {
        "nl": "U kunt uzelf geen volmacht geven.",
        "fr": "Vous ne pouvez pas vous donner un mandat à vous-même.",
        "en": "You cannot give a mandate to yourself.",
        "de": "Sie können sich selbst keine Vollmacht geben.",
    },
    "mandate_dates": {
        "nl": "De einddatum ligt voor de begindatum. Kies een einddatum na de begindatum.",
        "fr": "La date de fin précède la date de début. Choisissez une date de fin postérieure.",
        "en": "The end date is before the start date. Choose an end date after the start date.",
        "de": "Das Enddatum liegt vor dem Anfangsdatum. Wählen Sie ein späteres Enddatum.",
    },
    "mandate_name": {
        "nl": "Vul de naam in van de persoon die u volmacht geeft.",
        "fr": "Indiquez le nom de la personne à qui vous donnez mandat.",
        "en": "Fill in the name of the person you give the mandate to.",
        "de": "Geben Sie den Namen der Person ein, der Sie die Vollmacht geben.",
    },
    "unknown_mandate": {
        "nl": "Die volmacht bestaat niet, of u hebt ze niet gegeven.",
        "fr": "Ce mandat n'existe pas, ou vous ne l'avez pas donné.",
        "en": "That mandate does not exist, or you did not give it.",
        "de": "Diese Vollmacht gibt es nicht, oder Sie haben sie nicht erteilt.",
    },
    "mandate_not_valid": {
        "nl": "Deze volmacht geldt vandaag niet: ze is ingetrokken, nog niet begonnen of afgelopen.",
        "fr": "Ce mandat n'est pas valable aujourd'hui : il a été révoqué, "
        "n'a pas encore commencé ou a expiré.",
        "en": "This mandate does not apply today: it was revoked, has not started yet or has ended.",
        "de": "Diese Vollmacht gilt heute nicht: Sie wurde widerrufen, hat noch nicht begonnen oder ist "
        "abgelaufen.",
    },
    "mandate_out_of_scope": {
        "nl": "Uw volmacht geldt niet voor dit soort dossier.",
        "fr": "Votre mandat ne couvre pas ce type de dossier.",
        "en": "Your mandate does not cover this kind of case.",
        "de": "Ihre Vollmacht gilt nicht für diese Art von Akte.",
    },
    "unknown_case": {
        "nl": "Dat dossier vind ik niet bij de dossiers die u in dit profiel kunt bekijken.",
        "fr": "Je ne trouve pas ce dossier parmi ceux que vous pouvez consulter dans ce profil.",
        "en": "I cannot find that case among the cases you can see in this profile.",
        "de": "Diese Akte finde ich nicht unter den Akten, die Sie in diesem Profil sehen können.",
    },
    "no_cases": {
        "nl": "Ik vind geen lopende dossiers voor u in dit profiel. Handelt u voor iemand anders of voor "
        "een onderneming? Kies dan eerst dat profiel.",
        "fr": "Je ne trouve aucun dossier en cours pour vous dans ce profil. Vous agissez pour quelqu'un "
        "d'autre ou pour une entreprise ? Choisissez d'abord ce profil.",
        "en": "I find no running cases for you in this profile. Are you acting for someone else or for a "
        "company? Then choose that profile first.",
        "de": "Ich finde in diesem Profil keine laufenden Akten für Sie. Handeln Sie für jemand anderen "
        "oder für ein Unternehmen? Wählen Sie dann zuerst dieses Profil.",
    },
    "your_cases": {
        "nl": "U hebt {count} lopende dossiers.",
        "fr": "Vous avez {count} dossiers en cours.",
        "en": "You have {count} running cases.",
        "de": "Sie haben {count} laufende Akten.",
    },
    "case_status": {
        "nl": "Uw dossier '{name}' (nummer {number}) bij {organisation}: {status}, "
        "laatst gewijzigd op {date}.",
        "fr": "Votre dossier « {name} » (numéro {number}) auprès de {organisation} : {status}, "
        "modifié pour la dernière fois le {date}.",
        "en": "Your case '{name}' (number {number}) at {organisation}: {status}, last changed on {date}.",
        "de": "Ihre Akte „{name}“ (Nummer {number}) bei {organisation}: {status}, "
        "zuletzt geändert am {date}.",
    },
    "case_action": {
        "nl": "Voor '{name}' moet u nog iets doen: {action}.",
        "fr": "Pour « {name} », vous devez encore faire quelque chose : {action}.",
        "en": "For '{name}' you still need to do something: {action}.",
        "de": "Für „{name}“ müssen Sie noch etwas tun: {action}.",
    },
    "case_no_action": {
        "nl": "U hoeft op dit moment niets te doen.",
        "fr": "Vous n'avez rien à faire pour le moment.",
        "en": "You do not need to do anything at the moment.",
        "de": "Sie müssen im Moment nichts tun.",
    },
    "nothing_to_do": {
        "nl": "U hoeft voor geen enkel van uw lopende dossiers iets te doen.",
        "fr": "Vous n'avez rien à faire pour aucun de vos dossiers en cours.",
        "en": "You do not need to do anything for any of your running cases.",
        "de": "Für keine Ihrer laufenden Akten müssen Sie etwas tun.",
    },
    "own_case_not_stored": {
        "nl": "(Antwoord uit uw dossiers: niet bewaard.)",
        "fr": "(Réponse tirée de vos dossiers : non conservée.)",
        "en": "(Answer from your cases: not kept.)",
        "de": "(Antwort aus Ihren Akten: nicht gespeichert.)",
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

"""A small message catalogue for the public pages (English, Spanish, French) and the choice of language.

The submitters are often workers and NGOs far from Washington; the intake form and its coaching must be read in
their language. The pipeline writes its "missing" advice in English, so each of those sentences is mapped to a
key here and translated; a sentence with no key (wording changed in the pipeline) is shown in English rather
than dropped, and a test checks every sentence the pipeline can produce has a key.
"""

from __future__ import annotations

LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français"}
DEFAULT_LANGUAGE = "en"

# The English sentences of service/nlp/rules/assessment.missing_elements, by key.
MISSING_KEYS: dict[str, str] = {
    "Name the producer: the company, factory, farm, vessel or mine where the work happens.": "missing.producer",
    "Say which goods are produced (for example 'rubber gloves' or 'frozen shrimp').": "missing.goods",
    "Say where the goods are produced: country, province or town, and the site if known.": "missing.location",
    "Describe what happens to the workers: for example debts, kept passports, threats, unpaid wages, "
    "locked housing, violence or extreme hours.": "missing.workers",
    "Show both sides of forced labor: how workers were made to take or keep the job (deception, "
    "vulnerability) and how they are kept there (debts, threats, kept documents, withheld pay).": "missing.both_sides",
    "Show how the goods reach the United States: importer, brand or retailer names, shipments or bills "
    "of lading.": "missing.us_nexus",
    "Say how you know: first-hand testimony, documents, photos, or a government or court finding.": "missing.how_known",
}

_EN: dict[str, str] = {
    "site.title": "WRO Triage",
    "nav.submit": "Report forced labor",
    "nav.status": "Check a receipt",
    "nav.queue": "Review queue",
    "nav.metrics": "Metrics",
    "nav.cases": "Cases",
    "nav.login": "Investigator login",
    "nav.logout": "Log out",
    "submit.title": "Report forced labor in goods sent to the United States",
    "submit.intro": "U.S. Customs and Border Protection can stop goods made with forced labor at the border. "
    "Tell us what you know. You can stay anonymous. As you write, the panel shows what your report already "
    "covers and what would make it stronger.",
    "submit.identity": "Who are you?",
    "submit.anonymous": "Send anonymously",
    "submit.named": "Give my name and a way to contact me",
    "submit.name": "Your name",
    "submit.contact": "E-mail or phone (optional)",
    "field.producer": "Who produces the goods?",
    "field.producer.hint": "Company, factory, farm, fishing vessel or mine; its address if you know it.",
    "field.goods": "What goods?",
    "field.goods.hint": "For example rubber gloves, cotton, frozen shrimp, solar panels.",
    "field.location": "Where are they produced?",
    "field.location.hint": "Country, province or town, and the site.",
    "field.route_to_us": "How do the goods reach the United States?",
    "field.route_to_us.hint": "Importers, brands, retailers, shipments, bills of lading.",
    "field.workers": "What happened to the workers?",
    "field.workers.hint": "For example debts, kept passports, threats, unpaid wages, locked housing, violence, "
    "extreme hours.",
    "field.how_known": "How do you know?",
    "field.how_known.hint": "You saw it, workers told you, documents, photos, a court or government finding.",
    "field.when": "When did it happen?",
    "field.details": "Anything else",
    "field.attachments": "Attach documents, photos or reports (optional)",
    "field.attachments.hint": "Up to {count} files, {size} MB each.",
    "submit.button": "Send the report",
    "coach.title": "How strong is your report?",
    "coach.empty": "Start writing: this panel will show what your report covers.",
    "coach.loading": "Coaching starts in a moment…",
    "coach.present": "Already covered",
    "coach.missing": "Would make it stronger",
    "coach.complete": "Your report covers every element CBP looks for.",
    "present.producer": "Producer named: {value}",
    "present.goods": "Goods named: {value}",
    "present.location": "Place of production: {value}",
    "present.workers": "What happened to the workers: {value}",
    "present.us_nexus": "A link to the United States",
    "present.how_known": "How you know (first-hand or reported)",
    "receipt.title": "Thank you. Your report was received.",
    "receipt.code": "Your receipt code",
    "receipt.once": "Write this code down now. It is shown only once and we cannot recover it. With it you "
    "can check your report and add evidence later, without an account.",
    "receipt.documents": "Documents received: {count}",
    "status.title": "Check a report or add evidence",
    "status.code": "Receipt code",
    "status.button": "Look up",
    "status.unknown": "No report has this receipt code. Check the code and try again.",
    "status.documents": "Your documents",
    "status.add": "Add evidence",
    "status.add.text": "New information",
    "status.add.button": "Add to my report",
    "status.added": "Your new evidence was added.",
    "doc.queued": "received, waiting to be read",
    "doc.processing": "being read",
    "doc.done": "read",
    "doc.failed": "could not be read",
    "error.csrf": "The form expired. Go back, reload the page and try again.",
    "error.rate": "Too many attempts. Wait a minute and try again.",
    "error.too_large": "A file is too large.",
    "error.empty": "Write something or attach a file before sending.",
    "error.too_many_files": "Too many files.",
}

_ES: dict[str, str] = {
    "nav.submit": "Denunciar trabajo forzoso",
    "nav.status": "Consultar un recibo",
    "nav.login": "Acceso de investigadores",
    "submit.title": "Denuncie trabajo forzoso en bienes enviados a Estados Unidos",
    "submit.intro": "La Oficina de Aduanas y Protección Fronteriza de EE. UU. (CBP) puede detener en la frontera "
    "bienes producidos con trabajo forzoso. Cuéntenos lo que sabe. Puede permanecer en el anonimato. Mientras "
    "escribe, el panel muestra lo que su denuncia ya cubre y lo que la haría más sólida.",
    "submit.identity": "¿Quién es usted?",
    "submit.anonymous": "Enviar de forma anónima",
    "submit.named": "Dar mi nombre y un medio de contacto",
    "submit.name": "Su nombre",
    "submit.contact": "Correo electrónico o teléfono (opcional)",
    "field.producer": "¿Quién produce los bienes?",
    "field.producer.hint": "Empresa, fábrica, finca, barco pesquero o mina; su dirección si la conoce.",
    "field.goods": "¿Qué bienes?",
    "field.goods.hint": "Por ejemplo guantes de caucho, algodón, camarón congelado, paneles solares.",
    "field.location": "¿Dónde se producen?",
    "field.location.hint": "País, provincia o ciudad, y el lugar.",
    "field.route_to_us": "¿Cómo llegan los bienes a Estados Unidos?",
    "field.route_to_us.hint": "Importadores, marcas, minoristas, envíos, conocimientos de embarque.",
    "field.workers": "¿Qué les pasó a los trabajadores?",
    "field.workers.hint": "Por ejemplo deudas, pasaportes retenidos, amenazas, salarios impagos, alojamiento "
    "cerrado con llave, violencia, jornadas extremas.",
    "field.how_known": "¿Cómo lo sabe?",
    "field.how_known.hint": "Lo vio, se lo contaron los trabajadores, documentos, fotos, una decisión judicial "
    "o del gobierno.",
    "field.when": "¿Cuándo ocurrió?",
    "field.details": "Algo más",
    "field.attachments": "Adjunte documentos, fotos o informes (opcional)",
    "field.attachments.hint": "Hasta {count} archivos, {size} MB cada uno.",
    "submit.button": "Enviar la denuncia",
    "coach.title": "¿Qué tan sólida es su denuncia?",
    "coach.empty": "Empiece a escribir: este panel mostrará lo que cubre su denuncia.",
    "coach.loading": "La ayuda empieza en un momento…",
    "coach.present": "Ya cubierto",
    "coach.missing": "La haría más sólida",
    "coach.complete": "Su denuncia cubre todos los elementos que busca la CBP.",
    "present.producer": "Productor nombrado: {value}",
    "present.goods": "Bienes nombrados: {value}",
    "present.location": "Lugar de producción: {value}",
    "present.workers": "Lo que les pasó a los trabajadores: {value}",
    "present.us_nexus": "Un vínculo con Estados Unidos",
    "present.how_known": "Cómo lo sabe (directamente o por testimonio)",
    "receipt.title": "Gracias. Su denuncia fue recibida.",
    "receipt.code": "Su código de recibo",
    "receipt.once": "Anote este código ahora. Solo se muestra una vez y no podemos recuperarlo. Con él puede "
    "consultar su denuncia y añadir pruebas más tarde, sin cuenta.",
    "receipt.documents": "Documentos recibidos: {count}",
    "status.title": "Consultar una denuncia o añadir pruebas",
    "status.code": "Código de recibo",
    "status.button": "Consultar",
    "status.unknown": "Ninguna denuncia tiene este código. Revise el código e inténtelo de nuevo.",
    "status.documents": "Sus documentos",
    "status.add": "Añadir pruebas",
    "status.add.text": "Información nueva",
    "status.add.button": "Añadir a mi denuncia",
    "status.added": "Sus nuevas pruebas fueron añadidas.",
    "doc.queued": "recibido, en espera de lectura",
    "doc.processing": "en lectura",
    "doc.done": "leído",
    "doc.failed": "no se pudo leer",
    "error.csrf": "El formulario caducó. Vuelva atrás, recargue la página e inténtelo de nuevo.",
    "error.rate": "Demasiados intentos. Espere un minuto e inténtelo de nuevo.",
    "error.too_large": "Un archivo es demasiado grande.",
    "error.empty": "Escriba algo o adjunte un archivo antes de enviar.",
    "error.too_many_files": "Demasiados archivos.",
    "missing.producer": "Nombre al productor: la empresa, fábrica, finca, barco o mina donde se trabaja.",
    "missing.goods": "Diga qué bienes se producen (por ejemplo «guantes de caucho» o «camarón congelado»).",
    "missing.location": "Diga dónde se producen los bienes: país, provincia o ciudad, y el lugar si lo conoce.",
    "missing.workers": "Describa lo que les pasa a los trabajadores: por ejemplo deudas, pasaportes retenidos, "
    "amenazas, salarios impagos, alojamiento cerrado, violencia o jornadas extremas.",
    "missing.both_sides": "Muestre los dos lados del trabajo forzoso: cómo se obligó a los trabajadores a aceptar "
    "o mantener el empleo (engaño, vulnerabilidad) y cómo se les retiene (deudas, amenazas, documentos "
    "retenidos, salarios retenidos).",
    "missing.us_nexus": "Muestre cómo llegan los bienes a Estados Unidos: nombres de importadores, marcas o "
    "minoristas, envíos o conocimientos de embarque.",
    "missing.how_known": "Diga cómo lo sabe: testimonio directo, documentos, fotos, o una decisión judicial o "
    "del gobierno.",
}

_FR: dict[str, str] = {
    "nav.submit": "Signaler du travail forcé",
    "nav.status": "Consulter un reçu",
    "nav.login": "Accès enquêteurs",
    "submit.title": "Signalez le travail forcé dans des marchandises envoyées aux États-Unis",
    "submit.intro": "Les douanes américaines (CBP) peuvent arrêter à la frontière des marchandises produites par "
    "le travail forcé. Dites-nous ce que vous savez. Vous pouvez rester anonyme. Pendant que vous écrivez, le "
    "panneau montre ce que votre signalement couvre déjà et ce qui le rendrait plus solide.",
    "submit.identity": "Qui êtes-vous ?",
    "submit.anonymous": "Envoyer anonymement",
    "submit.named": "Donner mon nom et un moyen de me contacter",
    "submit.name": "Votre nom",
    "submit.contact": "Courriel ou téléphone (facultatif)",
    "field.producer": "Qui produit les marchandises ?",
    "field.producer.hint": "Entreprise, usine, exploitation, navire de pêche ou mine ; son adresse si vous la "
    "connaissez.",
    "field.goods": "Quelles marchandises ?",
    "field.goods.hint": "Par exemple gants en caoutchouc, coton, crevettes surgelées, panneaux solaires.",
    "field.location": "Où sont-elles produites ?",
    "field.location.hint": "Pays, province ou ville, et le site.",
    "field.route_to_us": "Comment les marchandises arrivent-elles aux États-Unis ?",
    "field.route_to_us.hint": "Importateurs, marques, détaillants, expéditions, connaissements.",
    "field.workers": "Qu'est-il arrivé aux travailleurs ?",
    "field.workers.hint": "Par exemple dettes, passeports confisqués, menaces, salaires impayés, logements "
    "fermés à clé, violences, horaires extrêmes.",
    "field.how_known": "Comment le savez-vous ?",
    "field.how_known.hint": "Vous l'avez vu, des travailleurs vous l'ont dit, documents, photos, une décision "
    "de justice ou du gouvernement.",
    "field.when": "Quand cela s'est-il passé ?",
    "field.details": "Autre chose",
    "field.attachments": "Joindre des documents, photos ou rapports (facultatif)",
    "field.attachments.hint": "Jusqu'à {count} fichiers, {size} Mo chacun.",
    "submit.button": "Envoyer le signalement",
    "coach.title": "Votre signalement est-il solide ?",
    "coach.empty": "Commencez à écrire : ce panneau montrera ce que couvre votre signalement.",
    "coach.loading": "L'aide démarre dans un instant…",
    "coach.present": "Déjà couvert",
    "coach.missing": "Le rendrait plus solide",
    "coach.complete": "Votre signalement couvre tous les éléments recherchés par la CBP.",
    "present.producer": "Producteur nommé : {value}",
    "present.goods": "Marchandises nommées : {value}",
    "present.location": "Lieu de production : {value}",
    "present.workers": "Ce qui est arrivé aux travailleurs : {value}",
    "present.us_nexus": "Un lien avec les États-Unis",
    "present.how_known": "Comment vous le savez (directement ou par témoignage)",
    "receipt.title": "Merci. Votre signalement a été reçu.",
    "receipt.code": "Votre code de reçu",
    "receipt.once": "Notez ce code maintenant. Il n'est affiché qu'une fois et nous ne pouvons pas le retrouver. "
    "Il vous permet de consulter votre signalement et d'ajouter des preuves plus tard, sans compte.",
    "receipt.documents": "Documents reçus : {count}",
    "status.title": "Consulter un signalement ou ajouter des preuves",
    "status.code": "Code de reçu",
    "status.button": "Consulter",
    "status.unknown": "Aucun signalement n'a ce code. Vérifiez le code et réessayez.",
    "status.documents": "Vos documents",
    "status.add": "Ajouter des preuves",
    "status.add.text": "Nouvelles informations",
    "status.add.button": "Ajouter à mon signalement",
    "status.added": "Vos nouvelles preuves ont été ajoutées.",
    "doc.queued": "reçu, en attente de lecture",
    "doc.processing": "en cours de lecture",
    "doc.done": "lu",
    "doc.failed": "illisible",
    "error.csrf": "Le formulaire a expiré. Revenez en arrière, rechargez la page et réessayez.",
    "error.rate": "Trop de tentatives. Attendez une minute et réessayez.",
    "error.too_large": "Un fichier est trop volumineux.",
    "error.empty": "Écrivez quelque chose ou joignez un fichier avant d'envoyer.",
    "error.too_many_files": "Trop de fichiers.",
    "missing.producer": "Nommez le producteur : l'entreprise, l'usine, l'exploitation, le navire ou la mine où "
    "se fait le travail.",
    "missing.goods": "Dites quelles marchandises sont produites (par exemple « gants en caoutchouc » ou "
    "« crevettes surgelées »).",
    "missing.location": "Dites où les marchandises sont produites : pays, province ou ville, et le site si vous "
    "le connaissez.",
    "missing.workers": "Décrivez ce qui arrive aux travailleurs : par exemple dettes, passeports confisqués, "
    "menaces, salaires impayés, logements fermés, violences ou horaires extrêmes.",
    "missing.both_sides": "Montrez les deux faces du travail forcé : comment les travailleurs ont été amenés à "
    "prendre ou garder l'emploi (tromperie, vulnérabilité) et comment ils sont retenus (dettes, menaces, "
    "documents confisqués, salaires retenus).",
    "missing.us_nexus": "Montrez comment les marchandises arrivent aux États-Unis : noms d'importateurs, de "
    "marques ou de détaillants, expéditions ou connaissements.",
    "missing.how_known": "Dites comment vous le savez : témoignage direct, documents, photos, ou une décision de "
    "justice ou du gouvernement.",
}

# English "missing" texts are the pipeline's own sentences.
_EN.update({key: sentence for sentence, key in MISSING_KEYS.items()})

INDICATOR_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "abuse_of_vulnerability": "abuse of vulnerability",
        "deception": "deception",
        "restriction_of_movement": "restriction of movement",
        "isolation": "isolation",
        "physical_sexual_violence": "physical or sexual violence",
        "intimidation_threats": "intimidation and threats",
        "retention_of_identity_documents": "retention of identity documents",
        "withholding_of_wages": "withholding of wages",
        "debt_bondage": "debt bondage",
        "abusive_working_living_conditions": "abusive working and living conditions",
        "excessive_overtime": "excessive overtime",
    },
    "es": {
        "abuse_of_vulnerability": "abuso de vulnerabilidad",
        "deception": "engaño",
        "restriction_of_movement": "restricción de movimiento",
        "isolation": "aislamiento",
        "physical_sexual_violence": "violencia física o sexual",
        "intimidation_threats": "intimidación y amenazas",
        "retention_of_identity_documents": "retención de documentos de identidad",
        "withholding_of_wages": "retención de salarios",
        "debt_bondage": "servidumbre por deudas",
        "abusive_working_living_conditions": "condiciones de trabajo y vida abusivas",
        "excessive_overtime": "horas extra excesivas",
    },
    "fr": {
        "abuse_of_vulnerability": "abus de vulnérabilité",
        "deception": "tromperie",
        "restriction_of_movement": "restriction de la liberté de mouvement",
        "isolation": "isolement",
        "physical_sexual_violence": "violences physiques ou sexuelles",
        "intimidation_threats": "intimidation et menaces",
        "retention_of_identity_documents": "confiscation des papiers d'identité",
        "withholding_of_wages": "retenue des salaires",
        "debt_bondage": "servitude pour dettes",
        "abusive_working_living_conditions": "conditions de travail et de vie abusives",
        "excessive_overtime": "heures supplémentaires excessives",
    },
}

CATALOGUE: dict[str, dict[str, str]] = {"en": _EN, "es": {**_EN, **_ES}, "fr": {**_EN, **_FR}}


def choose_language(query: str | None, accept_language: str | None) -> str:
    """?lang= wins; then the first supported language in Accept-Language by its q weight; then English."""
    if query and query.lower()[:2] in LANGUAGES:
        return query.lower()[:2]
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        code = tag.strip().lower()[:2]
        if code in LANGUAGES and quality > 0:
            weighted.append((-quality, position, code))
    return min(weighted)[2] if weighted else DEFAULT_LANGUAGE


def translate(lang: str, key: str, **values: object) -> str:
    text = CATALOGUE.get(lang, _EN).get(key, _EN.get(key, key))
    return text.format(**values) if values else text


def translate_missing(lang: str, sentence: str) -> str:
    key = MISSING_KEYS.get(sentence)
    return translate(lang, key) if key else sentence


def indicator_name(lang: str, indicator_id: str) -> str:
    return INDICATOR_NAMES.get(lang, INDICATOR_NAMES["en"]).get(indicator_id, indicator_id.replace("_", " "))

"""Words that never count as evidence: pronouns, prepositions, particles, greetings, modal verbs.

Listed both as surface forms and as lemmas (a token is dropped when its surface form or its first lemma is
listed). Negation ("не", "not") is dropped too: it is in almost every complaint and says nothing about
the topic.
"""

from __future__ import annotations

_UK = """
я ти він вона воно ми ви вони мене мені мною тебе тобі тобою його йому ним нього її їй нею неї нас нам
нами вас вам вами їх їм ними них мій моя моє мої мого моєї моєму моїй моїм моїх свій своя своє свої
твій твоя ваш ваша наш наша себе собі
і й та а але або чи не ні ані що щоб як це цей ця ці цього цієї цим той те ті того тієї там тут
де коли чому бо якщо то тоді так також теж же ж б би вже ще лише тільки навіть уже
у в на з із зі до від по за для про при під над без через між біля після перед
бути є був була було були буде будуть мати маю має хотіти хочу хоче хотів хотіла могти можу може міг
могла можна треба потрібно потрібен потрібна будь ласка добрий добрий день доброго день дякую дякуємо
привіт алло слухаю ну ось от все усе весь вся всі дуже просто ось-ось який яка яке які якийсь
робити зробити сказати скажіть підкажіть допоможіть допомогти питання проблема зараз сьогодні вчора
"""
_RU = """
я ты он она оно мы вы они меня мне мной тебя тебе тобой его ему им него её ее ей ней нас нам нами вас
вам вами их ими них мой моя моё мое мои моего моей моему моим моих свой своя своё свое свои твой
ваш ваша наш наша себя себе
и а но или ли не ни что чтобы как это этот эта эти этого этой тот та то те того той там тут где
когда почему потому если тогда так также тоже же ж бы уже ещё еще только даже
в во на с со к ко от по за для о об про при под над без через между около после перед у из
быть есть был была было были будет иметь хотеть хочу хочет хотел хотела мочь могу может мог могла
можно нужно надо нужен нужна пожалуйста добрый день здравствуйте спасибо привет алло слушаю ну вот
всё все весь вся очень просто делать сделать какой какая какое какие сказать скажите подскажите помогите помочь
вопрос проблема сейчас сегодня вчера
"""
_EN = """
i me my mine myself you your yours he him his she her hers it its we us our they them their
a an the and or but if so of to in on at for with from by about into over after before as
is am are was were be been being do does did done have has had having will would can could should shall
may might must not no yes please hello hi hey thank thanks okay ok um uh er well just very really
this that these those there here what when where why how which who whom some any all
i'm i've i'd it's don't doesn't didn't can't cannot won't isn't aren't wasn't weren't haven't hasn't
do need want help question problem today yesterday now
"""

STOPWORDS: dict[str, frozenset[str]] = {
    "uk": frozenset(_UK.split()),
    "ru": frozenset(_RU.split()),
    "en": frozenset(_EN.split()),
}

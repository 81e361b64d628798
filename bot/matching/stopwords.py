"""Function words that carry no topic, per language (already normalised: no diacritics).

They get zero weight in the lexical score, so "how do I ... in Finland?" does not pull every
intent that happens to contain "how", "do" or "in". Place names are added from countries.yaml.
"""

from bot.matching.normalize import tokens

_WORDS = """
a an the and or but if of to in on at for from with by as about into after before than then so
is are was were be been being am do does did done have has had having can could will would shall
should may might must need needs i me my mine we us our you your he she it its they them their
this that these those there here what which who whom whose when where why how any some all
no not yes please hi hello thanks thank ok okay hey get got getting go going want wanna know
im i'm ive dont cant doesnt isnt also just still very really much many more most one two
new now already yet again way thing things someone something anyone anything like
should would kind sort need needed needs help tell explain question questions
и в во на с со к ко по о об от до за из у не ни но а или же ли бы что как где когда кто
какой какая какие каком почему зачем я мне меня мой моя мои мы нам нас наш ты тебе вы вам
вас ваш он она оно они его ее их это этот эта эти там тут здесь есть был была были быть
можно нужно надо ли если уже еще ещё тоже так очень все всё весь вся для при про через
привет здравствуйте спасибо пожалуйста подскажите скажите помогите вопрос хочу хотел
хотела могу может можете какое сколько чтобы чем то узнать узнаю узнал узнала имею имеет
имеют подскажи скажи расскажите расскажи
і й в у на з із зі до від за по про не ні але а або чи що як де коли хто який яка які
чому навіщо я мені мене мій моя мої ми нам нас наш ти тобі ви вам вас ваш він вона воно
вони його її їх це цей ця ці там тут є був була були бути можна треба потрібно якщо вже
ще теж так дуже все весь вся для при через привіт дякую будь ласка підкажіть скажіть
допоможіть питання хочу можу може можете яке скільки щоб ніж то дізнатися дізнатись
дізнаюсь маю має мають підкажи скажи розкажіть розкажи
och att det som en ett i pa av for med till om jag du vi ni han hon de den kan ska hur var
vad nar varfor har ar mig min mitt mina
ja on ei se etta kuinka miten mita missa milloin mina sina me te han he voi voin pitaa
kun jos tai mutta ole olen
ja on ei et kas kuidas mida kus millal ma mina sa sina me te ta nad kas saan vaja
un ir ka kur kad es tu mes jus vins vina vai ne ar par uz no lai var
und der die das ein eine ich du wir sie es ist sind wie was wo wann warum mit fur in im zu
kann muss
"""

STOPWORDS: frozenset[str] = frozenset(tokens(_WORDS))

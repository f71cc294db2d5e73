"""ISO 639 language codes, as data: the ISO 639-2 code list of its registration authority (the
Library of Congress, https://www.loc.gov/standards/iso639-2/php/code_list.php), taken from Debian's
iso-codes 4.15.0 (/usr/share/iso-codes/json/iso_639-2.json), which follows that list.

``TWO_LETTER``: the 184 languages that have an ISO 639-1 code, one a line:
``<639-1> <639-2/T> <639-2/B or -> <English name>[|<name in the language itself>]``. The English
name is the first of the authority's names that has no comma, without a trailing qualifier
("Occitan (post 1500)" -> "Occitan"); el, gd and st are shortened by hand to "Greek",
"Scottish Gaelic" and "Southern Sotho". The name in the language itself is iso-codes' translation
of the language's name into that language (its iso_639-2 gettext catalogue), where it has one,
first letter capitalised for menus in Latin, Greek and Cyrillic scripts; nb and nn are written
"Norsk bokmål" and "Norsk nynorsk" by hand. ``THREE_LETTER``: every other ISO 639-2 code with its
English name, except und, zxx, mis and the qaa-qtz local-use range, which languages.py handles.
"""

from __future__ import annotations

TWO_LETTER = """
aa aar - Afar
ab abk - Abkhazian
af afr - Afrikaans
ak aka - Akan
am amh - Amharic|አማርኛ
ar ara - Arabic|العربية
an arg - Aragonese
as asm - Assamese|অসমীয়া
av ava - Avaric
ae ave - Avestan
ay aym - Aymara
az aze - Azerbaijani
ba bak - Bashkir
bm bam - Bambara
be bel - Belarusian|Беларуская
bn ben - Bengali|বাংলা
bh bih - Bihari languages
bi bis - Bislama
bo bod tib Tibetan
bs bos - Bosnian
br bre - Breton|Brezhoneg
bg bul - Bulgarian|Български
ca cat - Catalan|Català
cs ces cze Czech|Čeština
ch cha - Chamorro
ce che - Chechen
cu chu - Church Slavic
cv chv - Chuvash
kw cor - Cornish
co cos - Corsican
cr cre - Cree
cy cym wel Welsh|Cymraeg
da dan - Danish|Dansk
de deu ger German|Deutsch
dv div - Divehi
dz dzo - Dzongkha
el ell gre Greek|Ελληνικά
en eng - English
eo epo - Esperanto
et est - Estonian|Eesti
eu eus baq Basque|Euskara
ee ewe - Ewe
fo fao - Faroese
fa fas per Persian|فارسی
fj fij - Fijian
fi fin - Finnish|Suomi
fr fra fre French|Français
fy fry - Western Frisian
ff ful - Fulah
gd gla - Scottish Gaelic
ga gle - Irish|Gaeilge
gl glg - Galician|Galego
gv glv - Manx
gn grn - Guarani
gu guj - Gujarati|ગુજરાતી
ht hat - Haitian
ha hau - Hausa
he heb - Hebrew|עברית
hz her - Herero
hi hin - Hindi|हिंदी
ho hmo - Hiri Motu
hr hrv - Croatian|Hrvatski
hu hun - Hungarian|Magyar
hy hye arm Armenian
ig ibo - Igbo
io ido - Ido
ii iii - Sichuan Yi
iu iku - Inuktitut
ie ile - Interlingue
ia ina - Interlingua
id ind - Indonesian|Bahasa Indonesia
ik ipk - Inupiaq
is isl ice Icelandic|Íslenska
it ita - Italian|Italiano
jv jav - Javanese
ja jpn - Japanese|日本語
kl kal - Kalaallisut
kn kan - Kannada|ಕನ್ನಡ
ks kas - Kashmiri
ka kat geo Georgian|ქართული
kr kau - Kanuri
kk kaz - Kazakh
km khm - Central Khmer
ki kik - Kikuyu
rw kin - Kinyarwanda|Ikinyarwanda
ky kir - Kirghiz
kv kom - Komi
kg kon - Kongo
ko kor - Korean|한국어
kj kua - Kuanyama
ku kur - Kurdish
lo lao - Lao
la lat - Latin
lv lav - Latvian|Latviešu
li lim - Limburgan
ln lin - Lingala
lt lit - Lithuanian|Lietuvių
lb ltz - Luxembourgish
lu lub - Luba-Katanga
lg lug - Ganda
mh mah - Marshallese
ml mal - Malayalam|മലയാളം
mr mar - Marathi|मराठी
mk mkd mac Macedonian|Македонски
mg mlg - Malagasy
mt mlt - Maltese|Malti
mn mon - Mongolian|Монгол
mi mri mao Maori|Reo Māori
ms msa may Malay|Bahasa Melayu
my mya bur Burmese
na nau - Nauru
nv nav - Navajo
nr nbl - South Ndebele
nd nde - North Ndebele
ng ndo - Ndonga
ne nep - Nepali
nl nld dut Dutch|Nederlands
nn nno - Norwegian Nynorsk|Norsk nynorsk
nb nob - Norwegian Bokmål|Norsk bokmål
no nor - Norwegian
ny nya - Chichewa
oc oci - Occitan
oj oji - Ojibwa
or ori - Oriya|ଓଡିଆ
om orm - Oromo
os oss - Ossetian
pa pan - Panjabi|ਪੰਜਾਬੀ
pi pli - Pali
pl pol - Polish|Polski
pt por - Portuguese|Português
ps pus - Pushto
qu que - Quechua
rm roh - Romansh
ro ron rum Romanian
rn run - Rundi
ru rus - Russian|Русский
sg sag - Sango
sa san - Sanskrit
si sin - Sinhala
sk slk slo Slovak|Slovenčina
sl slv - Slovenian|Slovenščina
se sme - Northern Sami
sm smo - Samoan
sn sna - Shona
sd snd - Sindhi
so som - Somali
st sot - Southern Sotho
es spa - Spanish|Español
sq sqi alb Albanian|Shqip
sc srd - Sardinian|Sardu
sr srp - Serbian|Српски
ss ssw - Swati
su sun - Sundanese
sw swa - Swahili
sv swe - Swedish|Svenska
ty tah - Tahitian
ta tam - Tamil|தமிழ்
tt tat - Tatar|Татарча
te tel - Telugu|తెలుగు
tg tgk - Tajik
tl tgl - Tagalog
th tha - Thai|ไทย
ti tir - Tigrinya|ትግርኛ
to ton - Tonga
tn tsn - Tswana
ts tso - Tsonga
tk tuk - Turkmen
tr tur - Turkish|Türkçe
tw twi - Twi
ug uig - Uighur
uk ukr - Ukrainian|Українська
ur urd - Urdu
uz uzb - Uzbek
ve ven - Venda
vi vie - Vietnamese|Tiếng Việt
vo vol - Volapük
wa wln - Walloon|Walon
wo wol - Wolof
xh xho - Xhosa|isiXhosa
yi yid - Yiddish
yo yor - Yoruba
za zha - Zhuang
zh zho chi Chinese|汉语
zu zul - Zulu|Isi-Zulu
"""

THREE_LETTER = """
ace=Achinese; ach=Acoli; ada=Adangme; ady=Adyghe; afa=Afro-Asiatic languages; afh=Afrihili; ain=Ainu;
akk=Akkadian; ale=Aleut; alg=Algonquian languages; alt=Southern Altai; ang=English, Old; anp=Angika;
apa=Apache languages; arc=Official Aramaic; arn=Mapudungun; arp=Arapaho; art=Artificial languages; arw=Arawak;
ast=Asturian; ath=Athapascan languages; aus=Australian languages; awa=Awadhi; bad=Banda languages;
bai=Bamileke languages; bal=Baluchi; ban=Balinese; bas=Basa; bat=Baltic languages; bej=Beja; bem=Bemba;
ber=Berber languages; bho=Bhojpuri; bik=Bikol; bin=Bini; bla=Siksika; bnt=Bantu; bra=Braj; btk=Batak
languages; bua=Buriat; bug=Buginese; byn=Blin; cad=Caddo; cai=Central American Indian languages; car=Galibi
Carib; cau=Caucasian languages; ceb=Cebuano; cel=Celtic languages; chb=Chibcha; chg=Chagatai; chk=Chuukese;
chm=Mari; chn=Chinook jargon; cho=Choctaw; chp=Chipewyan; chr=Cherokee; chy=Cheyenne; cmc=Chamic languages;
cnr=Montenegrin; cop=Coptic; cpe=Creoles and pidgins, English based; cpf=Creoles and pidgins, French-based;
cpp=Creoles and pidgins, Portuguese-based; crh=Crimean Tatar; crp=Creoles and pidgins; csb=Kashubian;
cus=Cushitic languages; dak=Dakota; dar=Dargwa; day=Land Dayak languages; del=Delaware; den=Slave; dgr=Dogrib;
din=Dinka; doi=Dogri; dra=Dravidian languages; dsb=Lower Sorbian; dua=Duala; dum=Dutch, Middle; dyu=Dyula;
efi=Efik; egy=Egyptian; eka=Ekajuk; elx=Elamite; enm=English, Middle; ewo=Ewondo; fan=Fang; fat=Fanti;
fil=Filipino; fiu=Finno-Ugrian languages; fon=Fon; frm=French, Middle; fro=French, Old; frr=Northern Frisian;
frs=Eastern Frisian; fur=Friulian; gaa=Ga; gay=Gayo; gba=Gbaya; gem=Germanic languages; gez=Geez;
gil=Gilbertese; gmh=German, Middle High; goh=German, Old High; gon=Gondi; gor=Gorontalo; got=Gothic;
grb=Grebo; grc=Greek, Ancient; gsw=Swiss German; gwi=Gwich'in; hai=Haida; haw=Hawaiian; hil=Hiligaynon;
him=Himachali languages; hit=Hittite; hmn=Hmong; hsb=Upper Sorbian; hup=Hupa; iba=Iban; ijo=Ijo languages;
ilo=Iloko; inc=Indic languages; ine=Indo-European languages; inh=Ingush; ira=Iranian languages; iro=Iroquoian
languages; jbo=Lojban; jpr=Judeo-Persian; jrb=Judeo-Arabic; kaa=Kara-Kalpak; kab=Kabyle; kac=Kachin;
kam=Kamba; kar=Karen languages; kaw=Kawi; kbd=Kabardian; kha=Khasi; khi=Khoisan languages; kho=Khotanese;
kmb=Kimbundu; kok=Konkani; kos=Kosraean; kpe=Kpelle; krc=Karachay-Balkar; krl=Karelian; kro=Kru languages;
kru=Kurukh; kum=Kumyk; kut=Kutenai; lad=Ladino; lah=Lahnda; lam=Lamba; lez=Lezghian; lol=Mongo; loz=Lozi;
lua=Luba-Lulua; lui=Luiseno; lun=Lunda; luo=Luo; lus=Lushai; mad=Madurese; mag=Magahi; mai=Maithili;
mak=Makasar; man=Mandingo; map=Austronesian languages; mas=Masai; mdf=Moksha; mdr=Mandar; men=Mende;
mga=Irish, Middle; mic=Mi'kmaq; min=Minangkabau; mkh=Mon-Khmer languages; mnc=Manchu; mni=Manipuri; mno=Manobo
languages; moh=Mohawk; mos=Mossi; mul=Multiple languages; mun=Munda languages; mus=Creek; mwl=Mirandese;
mwr=Marwari; myn=Mayan languages; myv=Erzya; nah=Nahuatl languages; nai=North American Indian languages;
nap=Neapolitan; nds=Low German; new=Nepal Bhasa; nia=Nias; nic=Niger-Kordofanian languages; niu=Niuean;
nog=Nogai; non=Norse, Old; nqo=N'Ko; nso=Pedi; nub=Nubian languages; nwc=Classical Newari; nym=Nyamwezi;
nyn=Nyankole; nyo=Nyoro; nzi=Nzima; osa=Osage; ota=Turkish, Ottoman; oto=Otomian languages; paa=Papuan
languages; pag=Pangasinan; pal=Pahlavi; pam=Pampanga; pap=Papiamento; pau=Palauan; peo=Persian, Old;
phi=Philippine languages; phn=Phoenician; pon=Pohnpeian; pra=Prakrit languages; pro=Provençal, Old;
raj=Rajasthani; rap=Rapanui; rar=Rarotongan; roa=Romance languages; rom=Romany; rup=Aromanian; sad=Sandawe;
sah=Yakut; sai=South American Indian; sal=Salishan languages; sam=Samaritan Aramaic; sas=Sasak; sat=Santali;
scn=Sicilian; sco=Scots; sel=Selkup; sem=Semitic languages; sga=Irish, Old; sgn=Sign Languages; shn=Shan;
sid=Sidamo; sio=Siouan languages; sit=Sino-Tibetan languages; sla=Slavic languages; sma=Southern Sami;
smi=Sami languages; smj=Lule Sami; smn=Inari Sami; sms=Skolt Sami; snk=Soninke; sog=Sogdian; son=Songhai
languages; srn=Sranan Tongo; srr=Serer; ssa=Nilo-Saharan languages; suk=Sukuma; sus=Susu; sux=Sumerian;
syc=Classical Syriac; syr=Syriac; tai=Tai languages; tem=Timne; ter=Tereno; tet=Tetum; tig=Tigre; tiv=Tiv;
tkl=Tokelau; tlh=Klingon; tli=Tlingit; tmh=Tamashek; tog=Tonga; tpi=Tok Pisin; tsi=Tsimshian; tum=Tumbuka;
tup=Tupi languages; tut=Altaic languages; tvl=Tuvalu; tyv=Tuvinian; udm=Udmurt; uga=Ugaritic; umb=Umbundu;
vai=Vai; vot=Votic; wak=Wakashan languages; wal=Walamo; war=Waray; was=Washo; wen=Sorbian languages;
xal=Kalmyk; yao=Yao; yap=Yapese; ypk=Yupik languages; zap=Zapotec; zbl=Blissymbols; zen=Zenaga; zgh=Standard
Moroccan Tamazight; znd=Zande languages; zun=Zuni; zza=Zaza
"""

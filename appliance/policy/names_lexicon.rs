//! Compiled-in name lexicons for the PERSON detector (SPEC 5.1): common given names and
//! family names of people living in Germany (German, Turkish, Arabic, Polish, Russian/
//! Ukrainian, Balkan, Southern European, English/French/Nordic, African, Asian, Persian
//! origins), assembled for this project as plain lists, plus the stop lists that keep
//! capitalised German words, roles and place words from being read as names.
//!
//! All entries are lower case. Must not: contain real persons' data beyond first/family names
//! in common use, or be loaded from anywhere at run time.

/// Common given names (lower case). Space separated; split once at start-up.
#[rustfmt::skip]
pub(crate) const GIVEN_NAMES: &str = "
aaron abdul abdullah abel abigail achim ada adam adelheid adele adem adnan adrian adriana adrienne agata agathe
agnes agnieszka ahmad ahmed ahmet aida aileen aisha alba albert alberto albin alena aleksander aleksandra alessandra
alessandro alessia alex alexa alexander alexandra alexei alexej alexis alfons alfred ali alicia alina aline alisa alma
almut alois alwin amadeus amal amalia amara amelie amina amir amira ana anastasia anders andrea andreas andrei andrej
andrzej angela angelika angelina anica anika anita anja anke ann anna annabell annalena anne annegret anneke annelie
anneliese annemarie annett annette anni annika antje anton antonia antonio anuschka arda aref ari ariane arina arne
arnold arthur artur arwen asja asli astrid atilla aurelia aurelie axel aya ayaan aylin ayse ayşe aziz
babette baran barbara bärbel barış bartosz basil bastian batuhan beata beate beatrice beatrix bela belinda ben benedikt
benjamin benno bernadette bernd bernhard berit bert berta bertha bettina betty bianca birgit birte bjarne björn bogdan
boris branko brigitte britta bruno burak büşra
can carina carl carla carlo carlos carmen carola carolin caroline carsten catharina cathrin cecilia celina celine cem
cemile charlotte chiara chidi chloe chris christa christian christiane christina christine christoph christopher
cihan clara claudia claudio claus clemens colin conrad constanze cora corinna cornelia cornelius cristina
dagmar dalia damian dana daniel daniela danielle danijel danuta daria dariusz darius david deborah denis deniz dennis
derya detlef diana diego dieter dietmar dietrich dilara dimitri dimitrios dirk dmitri dmitrij dominik dominika doris
dorothea dorothee dragan dragana dunja
ebru eda edda edgar edith eduard edward egon ehsan eike ekaterina ela elena elfriede elias elif elijah elisa elisabeth
elise elke ella ellen elli elsa else elvira emanuel emel emil emilia emilie emily emin emine emir emma emre enrico enzo
erik erika erna ernesto esma esra esther eugen eva evelin evelyn ewa ewald ezgi
fabian fabienne fabio fadime farah farid farida fatih fatima fatma federico felicitas felix ferdinand filip finja finn
finnja fiona florian franca francesca franz franziska frauke frederik frida frieda friederike friedhelm friedrich
fritz
gabi gabriel gabriela gabriele gaby georg george georgios gerald gerd gerda gerhard gerlinde gernot gero gertrud
gesa gisela giulia giuseppe goran gottfried greta grete gregor gudrun guido gül gülay gülsen günter günther gustav
hakan halil hamid hana hanna hannah hannelore hannes hans hansjörg harald harun hasan hassan hatice hauke hedwig
heidi heidrun heike heiko heiner heinrich heinz helena helene helga helge helmut hendrik henning henri henrik henrike
henriette herbert hermann hilde hildegard hiltrud holger horst hubert hugo hülya hüseyin
ibrahim ida ilka ilona ilse ilyas ina ines inga inge ingeborg ingo ingrid irena irene irina iris irma irmgard isa
isabel isabell isabella isabelle ismail ivan ivana ivo
jacqueline jakob jakub jalil jamal jan jana janek janina janine janis jannik jannis janusz jasmin jasper jean
jelena jennifer jens jeremias jessica joachim joanna jochen johann johanna johannes jolanta jonah jonas jonathan
jörg jorge josef josefine joseph joshua jovana judith julia julian juliane julie julius jürgen justin justus jutta
kai kamil kamila karim karin karl karla karolina kasimir katarina katarzyna katharina kathrin katja katrin kaya kemal
kenan kerem kerstin kevin khaled khalid kilian kim kira klara klaus konrad konstantin kornelia krystyna kübra kurt
lara larissa lars laura lea leah leandra lena leni lennard lennart leo leon leonard leonie leopold levent levi leyla
lia liam lian liane lieselotte lilli lilly lily lina linda linus lisa lothar louis louisa luca lucas lucia ludger
ludmila ludwig luis luisa luise lukas luka lutz lydia
madeleine magda magdalena mahmoud maik maja malgorzata malik malte manfred manon manuel manuela marc marcel marco
marcus maren margarete margit margot mari maria mariam marian marianne marie marina mario marion marius marja marko
markus marlene marlies marta martha martin martina mathias mathilda matteo matthias mattis max maxim maximilian
maya mehmet meike melanie melek melina melissa merle merve meryem mia michael michaela michał michel michelle mika
mila milan milena milica miriam mirko mohamed mohammad mohammed monika moritz muhammed murat mustafa
nadia nadine nadja natalia natalie natascha nathalie nele nelly nesrin nicolas nicole niklas nikola nikolai
nikolaj nikolaus nils nina noah noel nora norbert nour
olaf ole oleg oliver olga olivia omar oskar osman otto özlem
pascal patricia patrick paul paula paulina pauline pavel pawel peter petra philipp philippa pia piotr
rabia rafael rainer ralf ralph rana rania rebecca regina reinhard reinhold renate rene rené reza ricarda richard rita
robert robin roland rolf romy ronja rosemarie rüdiger rudolf ruth
sabine sabrina samir samira samuel sandra sara sarah saskia sebastian selin selina sena serkan sevgi sibel sibylle
siegfried sigrid silke silvia simon simone sina sinan sofia sofie sonja sophia sophie stefan stefanie steffen stella
stephan stephanie susanne svea sven svenja svetlana swen sylvia
tamara tanja tarek tatjana teresa thea theo theodor theresa thilo thomas thorsten till tilo tim timo timur tina
tobias tom tomasz toni torben torsten tuba tuncay
udo ulf ulla ulrich ulrike umut ursula ute uwe
valentin valentina valerie vanessa vera verena veronika viktor viktoria vincent viola vivien volker
walter waltraud wanda werner wibke wiebke wilfried wilhelm willi willy wiltrud witold maike wladimir wojciech wolfgang
xenia yara yasemin yasin yusuf yvonne zeynep zoe zofia zoran
anh minh thi hoa lan linh mai-anh duc quang huong thanh tuan ngoc
kwame kofi ngozi chiamaka adebayo oluwaseun amadou ibrahima mariama fatoumata abebe
parisa shirin mehdi hossein dariush farzaneh roya navid
rahul priya arjun anjali
alfons amelia ansgar arian arvid ayla birger bodo brunhilde christel cindy conny dagobert dajana diethelm dörte
dorit edeltraud edmund eleonore elmar emely engelbert erhard erich erwin falk falko fynn gerrit gertraud gesine
gisbert gotthard gunnar gunter hagen hanne hanno harry hartmut heidemarie heino helmuth henny herta hinrich ingolf
irmela isolde jannes jost juri karsten kay knut kuno lasse leif lioba lucie marek marga margret marlis mechthild
meinhard melitta minna mirjam nico niels norman ortrud oswald otmar ottilie patrizia quirin raik ramona randolf
reiner renke rico rieke roswitha rupert sandro sascha sieglinde silas stine sönke sören tabea tamina thekla theresia
tjark traute trude uli undine valeska volkmar waldemar walburga wenzel wigbert wilma winfried xaver yannick yannik
zita anatol
alea amrei arne-jan bendix claas enno femke fenja fiete fokko gesa hannelie harm hedda heiko helmke hilmar imke
inken janne jannek jelle jette keno kolja levke lorenz lotta lotte mads malin mattes meinert momme nele okke
piet rasmus rike silja swantje telse thies tomke tomma wenke wilko hinrike jördis kalle linnea
ailin alara almira amelia aras asya ayla azra bahar berkay berfin beyza burcu ceren damla defne ecrin efe
eren esila eylül hira irem kaan kerim lara-sophie mert mina miray nisa ömer öykü sude tuana yağmur yunus zehra
adil aiman amr anas bilal emad fadi hadi hamza haytham ibrahim imran jamil jana karam lina-marie mahmud majd
malak maryam mohamad mona nabil nadir noor omar qasim rami rashid rayan sami sana selim tamer wael yasmin
yousef zaid zaynab
agnieszka aleksy bartek bożena dorota edyta grażyna halina iwona jacek jadwiga jarek kinga krzysztof łukasz
maciej marzena mateusz milosz paweł przemysław radek renata sebastian stanisław szymon tadeusz teresa urszula
wiktor wiktoria zbigniew zuzanna
aleksandar bojan danica darko dejan dušan goran ivica jasmina jovan katarina ljiljana marija miloš mladen nada
nemanja petar predrag ranko slavica snežana stefan tijana vesna vladimir zlatan zorica
alina anatoli andrej arkadi boris daria denis galina gennadi igor ilja jewgeni jekaterina kirill konstantin
larissa ljudmila maxim michail natascha nikita oksana pavel sergej stanislaw taras tatjana vadim valentina
vitali walentina wassili wiktoria witali yuri
alessio alfonso andrea beatriz carla chiara cristiano davide elena emanuele fabrizio federica francesco giacomo
giorgio giovanni ines javier joão jose josé juan laura lorenzo lucia luigi manuela marco margarida mateo nuno
paolo pedro pietro raquel rosario rui sergio silvia sofia tiago vincenzo
anastasios christos eleni georgia ioannis konstantinos maria nikos panagiotis sotiris vasiliki
aiden alice amber amy charlie daisy dylan edward ella emma ethan evan finley freya grace harry isla jack jacob
james jamie jessica kate lewis liam lily luke megan mia noah oliver olivia oscar poppy rachel ruby ryan
scarlett sophie thomas william
aimée amélie antoine baptiste camille chloé clément élise émile étienne gaëlle hugo inès jules léa léon lucas
manon mathéo maël noémie pierre théo
anouk bram daan femke jesse joost lieke luuk maarten milan ruben sanne sem stijn thijs tijn
astrid björn elin erik freja frida gustav ingrid jonas kari lars liv magnus nils oskar sigrid stina tove
abena adaeze amadi ayodele babajide chinedu efua ifeoma kwabena nnamdi obinna olumide temitope uchenna yaw
anh-thu bao duc-anh hanh hieu huy khanh kim-anh lan-anh minh-anh nam phuong quynh thao trang tung vy
ali-reza amir-hossein bahram darya elham fariba kaveh leila mahsa mina navid neda omid parisa reza sahar
shirin soraya yasaman
";

/// Given names that are also common German words or abbreviations; they count as given
/// names only when capitalised and followed by a capitalised family name, never in the
/// lower-case rule.
#[rustfmt::skip]
pub(crate) const AMBIGUOUS_LOWER: &[&str] = &[
    "can", "elf", "ernst", "frank", "gabe", "heide", "iris", "kai", "mark", "max", "rosa", "rose", "till", "will", "wolf",
    "hagen", "falk", "nur", "mai", "lasse", "hanne", "minna", "silas",
];

/// Common family names (lower case), used for user names and surname-first forms.
#[rustfmt::skip]
pub(crate) const FAMILY_NAMES: &str = "
müller schmidt schneider fischer weber meyer wagner becker schulz hoffmann schäfer koch bauer richter klein wolf
schröder neumann schwarz zimmermann braun krüger hofmann hartmann lange schmitt werner schmitz krause meier lehmann
schmid schulze maier köhler herrmann könig walter mayer huber kaiser fuchs peters lang scholz möller weiß jung hahn
schubert vogel friedrich keller günther frank berger winkler roth beck lorenz baumann franke albrecht schuster simon
ludwig böhm winter kraus martin schumacher krämer vogt stein jäger otto sommer groß seidel heinrich brandt haas
schreiber graf schulte dietrich ziegler kuhn kühn pohl engel horn busch bergmann thomas voigt sauer arnold wolff
pfeiffer albers hansen jansen petersen jensen nielsen ernst lindner kruse brinkmann
yılmaz yilmaz kaya demir şahin sahin çelik celik yıldız yildiz yıldırım öztürk ozturk aydın aydin özdemir arslan
doğan dogan kılıç kilic aslan çetin kara koç kurt özkan şimşek polat korkmaz gündoğdu gundogdu demirtaş demirtas
nowak kowalski kowalska kowalczyk wiśniewski wójcik kamiński lewandowski zieliński szymański woźniak dąbrowski
kozłowski jankowski mazur wojciechowski kwiatkowski krawczyk kaczmarek piotrowski grabowski wierzbicki
petrović petrovic jovanović jovanovic nikolić nikolic marković markovic đorđević stojanović ilić pavlović popović
horvat kovačević babić hodžić hadžić
ivanov smirnov kuznetsov popov petrov sokolov volkov fedorov morozov novikov
hassan ahmad ibrahim khalil haddad saleh mansour nasser youssef abdullah
rossi russo ferrari esposito bianchi romano colombo ricci marino greco
papadopoulos georgiou nikolaidis
nguyen tran pham hoang
mensah diallo traoré kamara
";

/// Capitalised words that are never read as family names (lower case).
#[rustfmt::skip]
pub(crate) const STOP_WORDS: &str = "
der die das dem den des ein eine einer eines einem einen und oder aber sowie mit von vom zu zum zur für auf aus bei
nach vor über unter an am im in ins ist sind war waren hat haben hatte wird werden wurde kann könnte soll sollte muss
darf bitte danke hallo hi liebe lieber liebes sehr geehrte geehrter geehrtes herr herrn frau frauen familie sie er es
ich wir ihr ihre ihren ihrem ihrer mein meine dein sein seine unser euer wie was wer wo wann warum welche welcher
welches dass da dann denn doch noch auch nur schon nicht kein keine alle jeder jede jedes heute morgen gestern
januar februar märz april mai juni juli august september oktober november dezember montag dienstag mittwoch
donnerstag freitag samstag sonntag straße strasse str weg platz allee gasse ring gmbh ag kg ug mbh ev eg ohg co se
stadt gemeinde amt landkreis kreis rathaus schule gymnasium grundschule gesamtschule realschule kita kindergarten
universität hochschule klinik krankenhaus stiftung verein haus halle zentrum center park brücke preis museum
bibliothek theater kirche name vorname nachname familienname geburtsname geboren geb betreff anliegen datum
telefon tel fax mail email e-mail iban bic steuer-id steuernummer adresse anschrift wohnort ort plz uhr euro eur
jahre jahren jahr monate wochen tage kind kinder sohn tochter mutter vater eltern ehepaar eheleute antrag bescheid
nummer nr aktenzeichen az seite anlage abs absatz satz kapitel teil ziffer punkt hinweis info information
dr prof dipl ing med jur mag
gut neu alt alle viele einige mehrere weitere andere beide sämtliche
gesellschaft bank sparkasse volksbank versicherung krankenkasse jobcenter agentur behörde gericht amtsgericht
landgericht sozialgericht verwaltungsgericht finanzamt polizei feuerwehr
deutschland köln berlin hamburg münchen frankfurt stuttgart düsseldorf dortmund essen leipzig bremen dresden
hannover nürnberg duisburg bochum wuppertal bielefeld bonn münster mannheim karlsruhe augsburg wiesbaden aachen
kiel erfurt mainz rostock kassel halle magdeburg freiburg lübeck oberhausen potsdam
social media online internet website homepage facebook instagram twitter linkedin youtube tiktok whatsapp
mastodon team office meeting service update newsletter portal app cloud stadtwerke deutsche neue alte grüne
rote offene freie junge kleine große erste zweite dritte gute beste weitere andere allgemeine besondere zentrale
regionale lokale kommunale städtische öffentliche soziale private schwarze weiße blaue gelbe katholische
evangelische christliche freiwillige ehrenamtliche
";

/// Roles and offices that may follow a salutation instead of a name (lower case).
#[rustfmt::skip]
pub(crate) const ROLE_WORDS: &str = "
bürgermeister bürgermeisterin oberbürgermeister oberbürgermeisterin stadtrat stadträtin ratsmitglied beigeordneter
beigeordnete dezernent dezernentin amtsleiter amtsleiterin direktor direktorin präsident präsidentin vorsitzender
vorsitzende kollege kollegin minister ministerin abgeordneter abgeordnete landrat landrätin pfarrer pfarrerin richter
richterin staatsanwalt staatsanwältin rechtsanwalt rechtsanwältin anwalt anwältin doktor professor professorin
kämmerer kämmerin ortsvorsteher ortsvorsteherin bezirksbürgermeister bezirksbürgermeisterin schulleiter
schulleiterin leiter leiterin sachbearbeiter sachbearbeiterin mitarbeiter mitarbeiterin nachbar nachbarin kunde
kundin antragsteller antragstellerin vorsitzenden stadtdirektor stadtdirektorin landesminister bundesminister
kanzler kanzlerin ministerpräsident ministerpräsidentin senator senatorin staatssekretär staatssekretärin
gleichstellungsbeauftragte datenschutzbeauftragte datenschutzbeauftragter beauftragte beauftragter
";

/// Particles inside family names (`von`, `van`, `de`, …).
#[rustfmt::skip]
pub(crate) const PARTICLES: &[&str] = &[
    "von", "van", "de", "der", "den", "zu", "vom", "zur", "di", "da", "del", "della", "la", "le", "ten", "ter", "el", "al",
    "bin", "ibn", "mc", "dos", "das", "du",
];

/// Specimen and placeholder names and deceased historical figures whose names appear in
/// street, school and event names (SPEC 3.3); a PERSON hit containing one of these folded
/// strings is suppressed. Entries with a space must match the whole name.
#[rustfmt::skip]
pub(crate) const SUPPRESSED_NAMES: &[&str] = &[
    "mustermann", "musterfrau", "mustermensch", "beethoven", "goethe", "mozart", "adenauer", "bismarck", "einstein",
    "kollwitz", "lindgren", "gutenberg", "humboldt", "bonhoeffer", "stresemann", "luxemburg", "zetkin",
    "sophie scholl", "hans scholl", "geschwister scholl", "willy brandt", "friedrich schiller", "martin luther",
    "karl marx", "anne frank", "robert koch", "max planck", "heinrich heine", "thomas mann", "bertolt brecht",
    "friedrich ebert", "theodor heuss", "ludwig erhard", "helmut schmidt", "helmut kohl", "richard wagner",
    "johann sebastian bach", "georg friedrich händel", "immanuel kant", "hannah arendt", "albert schweitzer",
    "marie curie", "clara schumann", "robert schumann", "johannes brahms", "wilhelm busch", "heinrich böll",
    "günter grass", "erich kästner", "carl friedrich gauß", "gottfried wilhelm leibniz", "konrad zuse",
    "werner von siemens", "gottlieb daimler", "carl benz", "robert bosch", "heinrich hertz", "wilhelm conrad röntgen",
    "jacob grimm", "wilhelm grimm", "friedrich nietzsche", "karl may", "paula modersohn-becker", "ernst barlach",
    "joseph beuys", "hildegard von bingen", "martin luther king", "nelson mandela", "mahatma gandhi",
    "alexander von humboldt", "wilhelm von humboldt", "otto von bismarck", "ludwig van beethoven", "karl der große",
    "friedrich der große", "kaiser wilhelm", "rosa parks", "john lennon", "elvis presley",
];

/// Lower-case words that never follow a given name or salutation as a family name in the
/// lower-case chat rule (function words and frequent verbs).
#[rustfmt::skip]
pub(crate) const LOWER_STOP: &str = "
der die das dem den des ein eine einer eines einem einen und oder aber sowie mit von vom zu zum zur für auf aus bei
nach vor über unter an am im in ins ist sind war waren hat haben hatte wird werden wurde kann könnte soll sollte
muss darf bitte danke sie er es ich wir ihr ihre ihren ihrem mein meine sein seine wie was wer wo wann warum dass
da dann denn doch noch auch nur schon nicht kein keine alle heute morgen gestern hier dort jetzt bald gleich mal
ja nein so sehr gern gerne wegen seit bis ab als ob weil wenn per pro um ohne gegen durch über hat hatte geht
kommt kam ruft rief schreibt schrieb sagt sagte fragt fragte möchte will wollte braucht bekommt bekam erhält
wohnt wohnte zieht hier anrufen schreiben sprechen fragen sagen melden antworten informieren einladen
";

/// Salutations before a name.
#[rustfmt::skip]
pub(crate) const SALUTATIONS: &[&str] = &["herr", "herrn", "frau", "familie", "eheleute", "ehepaar", "fräulein", "hr", "fr"];
/// Academic titles and degree parts skipped between salutation and name.
#[rustfmt::skip]
pub(crate) const TITLES: &[&str] = &[
    "dr", "prof", "dipl", "ing", "med", "vet", "jur", "rer", "nat", "phil", "pol", "oec", "dent", "habil", "mag",
];
/// Form-field labels followed by `:` and a name.
#[rustfmt::skip]
pub(crate) const LABELS: &[&str] = &[
    "name", "nachname", "familienname", "vorname", "vornamen", "geburtsname", "inhaber", "inhaberin", "kontoinhaber",
    "kontoinhaberin", "antragsteller", "antragstellerin", "empfänger", "empfängerin", "absender", "absenderin",
    "ansprechpartner", "ansprechpartnerin", "patient", "patientin", "mieter", "mieterin", "schuldner", "schuldnerin",
    "bewerber", "bewerberin", "teilnehmer", "teilnehmerin", "versicherte", "versicherter", "kläger", "klägerin",
    "beklagte", "beklagter", "unterzeichner", "unterzeichnerin", "eigentümer", "eigentümerin", "halter", "halterin",
    "steuerpflichtige", "steuerpflichtiger", "ehemann", "ehefrau", "verstorbene", "verstorbener", "zeuge", "zeugin",
    "betroffene", "betroffener", "kunde", "kundin", "mitglied", "vertreter", "vertreterin", "bevollmächtigte",
    "bevollmächtigter", "person", "gast", "zahlungsempfänger", "zahlungsempfängerin", "auftraggeber",
    "auftraggeberin", "auftragnehmer", "auftragnehmerin", "begünstigte", "begünstigter", "karteninhaber",
    "karteninhaberin", "versicherungsnehmer", "versicherungsnehmerin", "erziehungsberechtigte",
    "erziehungsberechtigter", "vertragspartner", "vertragspartnerin", "spender", "spenderin", "ansprechperson",
    "kontaktperson", "verfasser", "verfasserin", "unterschrift",
];
/// Nouns for a person in a role; two capitalised words right after one are a name
/// (`der Gutachter Kolja Brandt`). Folded; see also `ROLE_SUFFIXES`.
#[rustfmt::skip]
pub(crate) const ROLE_CUES: &[&str] = &[
    "gutachter", "gutachterin", "flüchtling", "geflüchtete", "geflüchteter", "hausmeister", "hausmeisterin",
    "dozent", "dozentin", "referent", "referentin", "kläger", "klägerin", "beschäftigte", "beschäftigten",
    "mitarbeiter", "mitarbeiterin", "kollege", "kollegin", "mieter", "mieterin", "vermieter", "vermieterin",
    "eigentümer", "eigentümerin", "schüler", "schülerin", "student", "studentin", "auszubildende",
    "auszubildender", "praktikant", "praktikantin", "aushilfe", "saisonkraft", "architekt", "architektin",
    "ingenieurbüro", "ingenieurbüros", "architekturbüro", "steuerberater", "steuerberaterin", "bürger",
    "bürgerin", "anwohner", "anwohnerin", "nachbar", "nachbarin", "patient", "patientin", "klient", "klientin",
    "betroffene", "betroffener", "beschuldigte", "beschuldigter", "zeuge", "zeugin", "schöffe", "schöffin",
    "ehrenamtliche", "ehrenamtlicher", "fahrer", "fahrerin", "kind", "sohn", "tochter", "mutter", "vater",
    "ehemann", "ehefrau", "witwe", "witwer", "erbe", "erbin", "verstorbene", "verstorbenen", "verstorbener",
    "spender", "spenderin", "künstler", "künstlerin", "trainer", "trainerin", "lehrer", "lehrerin", "lehrkraft",
    "erzieher", "erzieherin", "pflegekraft", "angestellte", "angestellter", "beamtin", "beamter", "pächter",
    "pächterin", "halter", "halterin", "fahrzeughalter", "fahrzeughalterin", "versicherte", "versicherter",
    "asylbewerber", "asylbewerberin", "bewohner", "bewohnerin", "interessent", "interessentin", "käufer",
    "käuferin", "verkäufer", "verkäuferin", "bauherr", "bauherrin", "gastwirt", "gastwirtin", "wirt", "wirtin",
    "landwirt", "landwirtin", "jubilar", "jubilarin", "preisträger", "preisträgerin", "teilnehmende",
    "einwohner", "einwohnerin", "rentner", "rentnerin", "arzt", "ärztin", "pfleger", "pflegerin", "dozierende",
];
/// Endings of role nouns (`Malermeister`, `Einzelhändler`, `Antragstellerin`, …).
#[rustfmt::skip]
pub(crate) const ROLE_SUFFIXES: &[&str] = &[
    "meister", "meisterin", "händler", "händlerin", "inhaber", "inhaberin", "empfänger", "empfängerin", "helfer",
    "helferin", "berater", "beraterin", "kandidat", "kandidatin", "unternehmer", "unternehmerin", "führer",
    "führerin", "steller", "stellerin", "nehmer", "nehmerin", "geber", "geberin", "pflichtige", "pflichtiger",
    "berechtigte", "berechtigter", "bewerber", "bewerberin", "arbeiter", "arbeiterin", "leiter", "leiterin",
    "vertreter", "vertreterin", "beauftragte", "beauftragter", "sachverständige", "sachverständiger",
];
/// Prepositions before a capitalised name pair (`für Kolja Brandt,`).
#[rustfmt::skip]
pub(crate) const PREPOSITIONS: &[&str] = &["für", "von", "an", "bei", "mit", "gegen", "über", "durch", "zwischen", "heiße"];
/// Endings of abstract nouns; such words are neither given nor family names.
#[rustfmt::skip]
pub(crate) const NOUN_SUFFIXES: &[&str] = &["ung", "heit", "keit", "schaft", "tion", "sion", "ität", "ismus", "nisse", "ungen"];
/// Endings of inflected adjectives (`Offene`, `Städtischen`); such words do not start a name.
#[rustfmt::skip]
pub(crate) const ADJECTIVE_SUFFIXES: &[&str] = &["ische", "ischen", "liche", "lichen", "ige", "igen", "ene", "enen", "ale", "alen", "ete", "eten", "ste", "sten"];
/// Labels of user names.
#[rustfmt::skip]
pub(crate) const USER_LABELS: &[&str] = &[
    "nutzer", "benutzer", "nutzername", "benutzername", "username", "user", "account", "profil", "kennung",
    "nickname", "pseudonym", "handle", "login", "konto", "login-name", "loginname", "benutzerkennung", "user-id",
    "userid", "nutzer-id", "nutzerkennung", "anmeldename", "account-name",
];
/// Words after which a single capital letter is an item label, not an initial.
#[rustfmt::skip]
pub(crate) const INITIAL_BLOCK: &[&str] = &[
    "anlage", "abschnitt", "teil", "punkt", "gruppe", "typ", "variante", "buchstabe", "stufe", "kategorie", "klasse",
    "zone", "block", "haus", "gebäude", "raum", "reihe", "modell", "version", "option", "feld", "spalte", "zeile",
    "linie", "merkzeichen", "anhang", "plan", "seite", "s", "vitamin", "gleis", "halle", "bauteil", "ebene", "tor",
];
/// Endings of institution and place words (never family names; `-haus`, `-rath` are).
#[rustfmt::skip]
pub(crate) const INSTITUTION_SUFFIXES: &[&str] = &[
    "straße", "strasse", "amt", "kasse", "stelle", "verwaltung", "behörde", "gericht", "zentrum", "schule", "verein",
    "bank", "büro", "gesellschaft", "stiftung", "gymnasium", "kita", "allee", "klinik", "kirche", "gemeinde",
    "partei", "fraktion", "ausschuss", "beirat", "platz",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_lower_case() {
        for list in [
            GIVEN_NAMES,
            FAMILY_NAMES,
            STOP_WORDS,
            ROLE_WORDS,
            LOWER_STOP,
        ] {
            for w in list.split_whitespace() {
                assert_eq!(w, w.to_lowercase(), "{w}");
            }
        }
        assert!(GIVEN_NAMES.split_whitespace().count() > 900);
    }
}

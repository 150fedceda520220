"""Word lists the demo data is assembled from: names, places, music and review vocabulary."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Split a comma-separated block into stripped, non-empty entries."""
    return tuple(word.strip() for word in text.split(",") if word.strip())


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Split a block of comma-separated `left:right` entries."""
    halves = (entry.split(":", 1) for entry in _words(text))
    return tuple((left, right) for left, right in halves)


FIRST_NAMES = _words(
    """
    James, Mary, Robert, Patricia, John, Jennifer, Michael, Linda, William, Elizabeth,
    David, Barbara, Richard, Susan, Joseph, Jessica, Thomas, Sarah, Charles, Karen,
    Christopher, Nancy, Daniel, Lisa, Matthew, Margaret, Anthony, Betty, Mark, Sandra,
    Donald, Ashley, Steven, Kimberly, Paul, Emily, Andrew, Donna, Joshua, Michelle, Kenneth,
    Dorothy, Kevin, Carol, Brian, Amanda, George, Melissa, Edward, Deborah, Ronald,
    Stephanie, Timothy, Rebecca, Jason, Laura, Jeffrey, Sharon, Ryan, Cynthia, Jacob,
    Katherine, Gary, Amy, Nicholas, Angela, Eric, Shirley, Jonathan, Anna, Stephen, Brenda,
    Larry, Pamela, Justin, Nicole, Scott, Emma, Brandon, Samantha, Benjamin, Victoria,
    Samuel, Alexandra, Alexander, Christine, Patrick, Rachel, Frank, Catherine, Raymond,
    Olivia, Gregory, Sophia, Henry, Chloé, Peter, Lucía, José, Zoë, Lukas, Léa, Mateo,
    Hannah, Noah, Mia, Liam, Isabella, Elias, Amelie, Luca, Giulia, Hugo, Camille, Oskar,
    Freya, Finn, Ingrid, Lars, Astrid, Mehmet, Ayşe, Yuki, Haruto, Wei, Mei, Arjun, Priya,
    Ahmed, Fatima, Kwame, Amara, Diego, Valentina, Pablo, Sofía, Jan, Zofia, Bob, Bill, Liz,
    Kate, Mike, Tom, Jim, Chris, Jen, Dan, Alex, Sam
"""
)

LAST_NAMES = _words(
    """
    Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez,
    Hernandez, Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin,
    Lee, Perez, Thompson, White, Harris, Sanchez, Clark, Ramirez, Lewis, Robinson, Walker,
    Young, Allen, King, Wright, Scott, Torres, Nguyen, Hill, Flores, Green, Adams, Nelson,
    Baker, Hall, Rivera, Campbell, Mitchell, Carter, Roberts, Gomez, Phillips, Evans,
    Turner, Diaz, Parker, Cruz, Edwards, Collins, Reyes, Stewart, Morris, Morales, Murphy,
    Cook, Rogers, Gutierrez, Ortiz, Morgan, Cooper, Peterson, Bailey, Reed, Kelly, Howard,
    Ramos, Kim, Cox, Ward, Richardson, Watson, Brooks, Chavez, Wood, James, Bennett, Gray,
    Mendoza, Ruiz, Hughes, Price, Alvarez, Castillo, Sanders, Patel, Myers, Long, Ross,
    Foster, Jimenez, O'Brien, Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner,
    Becker, Hoffmann, Dubois, Lefèvre, Moreau, Laurent, Rossi, Russo, Ferrari, Esposito,
    Bianchi, Romano, Fernández, García, Jansen, de Vries, van Dijk, Bakker, Nowak, Kowalski,
    Wiśniewski, Novák, Svoboda, Andersson, Johansson, Nilsson, Hansen, Jensen, Nielsen,
    Virtanen, Korhonen, Öztürk, Kaya, Tanaka, Suzuki, Sato, Wang, Li, Zhang, Chen, Singh,
    Kumar, Okafor, Mensah, Silva, Santos, Oliveira, Costa, Pereira, MacDonald, O'Connor,
    Murray
"""
)

NICKNAMES = _pairs(
    """
    Robert:Bob, William:Bill, Elizabeth:Liz, Katherine:Kate, Michael:Mike, Thomas:Tom,
    James:Jim, Christopher:Chris, Jennifer:Jen, Daniel:Dan, Alexander:Alex, Samuel:Sam,
    Richard:Rick, Joseph:Joe, Matthew:Matt, Anthony:Tony, Steven:Steve, Andrew:Andy,
    Joshua:Josh, Patricia:Patty, Susan:Sue, Jessica:Jess, Rebecca:Becky, Benjamin:Ben,
    Nicholas:Nick, Jonathan:Jon, Victoria:Vicky, Charles:Charlie, Edward:Ed, Deborah:Debbie,
    Kimberly:Kim, Margaret:Maggie, Alexandra:Sasha, Samantha:Sam, Timothy:Tim, Gregory:Greg
"""
)

CITIES = _pairs(
    """
    New York:US, Los Angeles:US, Chicago:US, Houston:US, Seattle:US, Austin:US, Boston:US,
    Toronto:CA, Montreal:CA, Vancouver:CA, Mexico City:MX, Guadalajara:MX, São Paulo:BR, Rio
    de Janeiro:BR, Buenos Aires:AR, Bogotá:CO, Lima:PE, Santiago:CL, London:GB,
    Manchester:GB, Edinburgh:GB, Dublin:IE, Paris:FR, Lyon:FR, Marseille:FR, Berlin:DE,
    Hamburg:DE, Munich:DE, Cologne:DE, Amsterdam:NL, Rotterdam:NL, Brussels:BE, Zürich:CH,
    Vienna:AT, Madrid:ES, Barcelona:ES, Valencia:ES, Lisbon:PT, Porto:PT, Rome:IT, Milan:IT,
    Naples:IT, Stockholm:SE, Gothenburg:SE, Oslo:NO, Copenhagen:DK, Helsinki:FI, Warsaw:PL,
    Kraków:PL, Prague:CZ, Budapest:HU, Istanbul:TR, Athens:GR, Tokyo:JP, Osaka:JP, Seoul:KR,
    Shanghai:CN, Singapore:SG, Mumbai:IN, Bangalore:IN, Sydney:AU, Melbourne:AU,
    Auckland:NZ, Lagos:NG, Accra:GH, Nairobi:KE, Cape Town:ZA, Cairo:EG
"""
)

STREET_NAMES = _words(
    """
    Oak, Maple, Cedar, Elm, Pine, Birch, Willow, Chestnut, Station, Church, Mill, Park,
    Victoria, King, Queen, High, Bridge, Market, Garden, Meadow, Orchard, River, Lake, Hill,
    Forest, Spring, Harbour, Castle, Abbey, Windsor, Jubilee, Highland, Sunset, Riverside,
    Lincoln, Washington, Franklin, Jefferson, Madison, Chapel, School, North, South, West,
    Long, Green, New, Albert
"""
)

# Street types, each as (full, abbreviated): people type either.
STREET_TYPES = _pairs(
    """
    Street:St, Road:Rd, Avenue:Ave, Lane:Ln, Drive:Dr, Place:Pl, Court:Ct, Terrace:Tce
"""
)

# International calling codes by country code, for the countries of CITIES.
CALLING_CODES = dict(
    _pairs(
        """
    US:1, CA:1, MX:52, BR:55, AR:54, CO:57, PE:51, CL:56, GB:44, IE:353, FR:33, DE:49, NL:31,
    BE:32, CH:41, AT:43, ES:34, PT:351, IT:39, SE:46, NO:47, DK:45, FI:358, PL:48, CZ:420,
    HU:36, TR:90, GR:30, JP:81, KR:82, CN:86, SG:65, IN:91, AU:61, NZ:64, NG:234, GH:233,
    KE:254, ZA:27, EG:20
"""
    )
)

EMAIL_DOMAINS = _words(
    """
    gmail.com, yahoo.com, outlook.com, hotmail.com, icloud.com, proton.me, gmx.de, web.de,
    orange.fr, libero.it, aol.com, mail.com, fastmail.com, yandex.com, live.com
"""
)

GENRES = _words(
    """
    pop, rock, hip-hop, electronic, jazz, classical, r&b, country, metal, indie, folk,
    reggae, latin, blues, soul, k-pop, ambient, punk
"""
)

ADJECTIVES = _words(
    """
    Midnight, Golden, Electric, Silent, Broken, Velvet, Neon, Crimson, Lonely, Wild, Frozen,
    Burning, Hidden, Endless, Fading, Paper, Silver, Sweet, Restless, Crystal, Hollow,
    Violet, Distant, Northern, Little, Lucky, Secret, Blue, Cosmic, Falling, Sacred, Quiet,
    Rebel, Summer, Winter
"""
)

NOUNS = _words(
    """
    Heart, Dream, River, Fire, Ocean, Highway, Garden, Mirror, Shadow, Thunder, Rain, Star,
    Moon, City, Wolves, Lights, Echoes, Waves, Ghost, Horizon, Satellite, Machine, Roses,
    Storm, Signal, Kingdom, Paradise, Island, Stranger, Memory, Skyline, Tide, Parade,
    Orbit, Harbor
"""
)

VERBS = _words(
    """
    Run, Hold, Dance, Fall, Call, Chase, Break, Wait, Shine, Burn, Drive, Fly, Stay, Leave,
    Follow, Carry, Remember, Forget
"""
)

POSITIVE_WORDS = _words(
    """
    love, amazing, beautiful, brilliant, catchy, gorgeous, stunning, perfect, fantastic,
    masterpiece, uplifting, great, wonderful, excellent, addictive, incredible, lovely,
    fresh, groovy, magical, favorite, superb, delightful, powerful, moving, smooth, banger,
    flawless, joyful, inspiring
"""
)

NEGATIVE_WORDS = _words(
    """
    boring, awful, terrible, annoying, bland, repetitive, forgettable, weak, disappointing,
    grating, messy, dull, lazy, overproduced, tedious, cheesy, shallow, flat, muddy,
    painful, hate, worst, skip, noisy, generic, lifeless, sloppy, cringe, underwhelming,
    tiresome
"""
)

NEUTRAL_WORDS = _words(
    """
    the, song, track, album, vocals, beat, chorus, bridge, verse, melody, lyrics,
    production, mix, guitar, drums, bass, synths, intro, outro, this, it, is, was, on, my,
    commute, today, again, playlist, radio, with, and, a, really, kind, of, sounds, felt,
    heard, during, workout, evening, first, second, listen, artist, release, tempo, sound,
    version, live, studio, just, pretty, somewhat, honestly, overall, mostly, for, me
"""
)

MIXED_WORDS = _words(
    """
    okay, fine, decent, average, alright, mixed, mediocre, passable, meh, uneven, solid,
    standard, predictable, inconsistent, ordinary, so-so
"""
)

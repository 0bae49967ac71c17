import Glibc

/// Container ids and names as Docker makes them: 64 hex digits; an `adjective_surname` name
/// when none is given; a name is `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
public enum Names {
    public static func newID() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let v = rng.next() as UInt64
            let hex = String(v, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, isAlnum(first) else { return false }
        return name.unicodeScalars.allSatisfy { isAlnum($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    static func isAlnum(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s)
    }

    public static func generate<R: RandomNumberGenerator>(using rng: inout R) -> String {
        "\(adjectives.randomElement(using: &rng) ?? "eager")_\(surnames.randomElement(using: &rng) ?? "turing")"
    }

    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        return generate(using: &rng)
    }

    static let adjectives = [
        "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful", "blissful",
        "bold", "boring", "brave", "busy", "charming", "clever", "compassionate", "competent", "condescending",
        "confident", "cool", "cranky", "crazy", "dazzling", "determined", "distracted", "dreamy", "eager",
        "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic", "exciting", "fervent", "festive",
        "flamboyant", "focused", "friendly", "frosty", "funny", "gallant", "gifted", "goofy", "gracious", "great",
        "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible", "inspiring", "intelligent",
        "interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest",
        "musing", "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic",
        "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "recursing",
        "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange",
        "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
        "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
    ]

    static let surnames = [
        "agnesi", "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bell", "bhabha",
        "blackwell", "bohr", "boole", "booth", "bose", "brahmagupta", "brattain", "burnell", "cannon", "carson",
        "cerf", "chandrasekhar", "chatelet", "cohen", "curie", "darwin", "davinci", "diffie", "dijkstra",
        "easley", "edison", "einstein", "elion", "engelbart", "euclid", "euler", "faraday", "fermat", "fermi",
        "feynman", "franklin", "galileo", "gauss", "goldberg", "goldwasser", "goodall", "hamilton", "hawking",
        "heisenberg", "hellman", "hermann", "hertz", "hodgkin", "hopper", "hypatia", "jackson", "jennings",
        "johnson", "kalam", "kapitsa", "keller", "kepler", "khorana", "knuth", "kowalevski", "lamarr",
        "lamport", "leakey", "lovelace", "lumiere", "mahavira", "margulis", "maxwell", "mayer", "mccarthy",
        "mcclintock", "meitner", "mendel", "mirzakhani", "montalcini", "moore", "morse", "napier", "newton",
        "nightingale", "nobel", "noether", "northcutt", "noyce", "pascal", "pasteur", "perlman", "pike",
        "poincare", "ptolemy", "raman", "ramanujan", "ride", "ritchie", "robinson", "rosalind", "sammet",
        "shannon", "shockley", "sinoussi", "snyder", "spence", "stonebraker", "swanson", "tesla", "thompson",
        "torvalds", "turing", "varahamihira", "visvesvaraya", "wescoff", "wiles", "williams", "wilson", "wing",
        "wozniak", "wright", "yalow", "yonath", "zhukovsky",
    ]
}

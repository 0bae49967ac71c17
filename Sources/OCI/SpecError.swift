import JSON

/// A problem with config.json, located by the JSON path of the offending field (the JSON
/// library's error type: the parser and decoder report the same way).
public typealias SpecError = JSONError

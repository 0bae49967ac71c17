import JSON

extension RuntimeError {
    /// A config problem found by the JSON layer (decoding, validation, resolution): its JSON path
    /// kept as the error's field, the file (when given) in front of the message.
    init(config e: JSONError, file: String? = nil) {
        self.init(file.map { "\($0): \(e)" } ?? e.description, stage: "config", field: e.path.isEmpty ? nil : e.path)
    }
}

extension StringProtocol {
    func padding(_ n: Int) -> String { count >= n ? String(self) + " " : String(self) + String(repeating: " ", count: n - count) }
}

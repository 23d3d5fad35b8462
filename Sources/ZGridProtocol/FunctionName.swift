/// Rules for function names on the wire.
public enum FunctionName {
    /// The longest function name accepted, in bytes.
    public static let maxLength = 255

    /// Whether `bytes` is a valid function name: 1 to 255 bytes of `A-Z a-z 0-9 . _ -`.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// The error text for an invalid function name `name`, in the words every peer and command uses.
    public static func invalidMessage(_ name: String) -> String {
        "invalid function name '\(name)': use 1 to 255 characters of A-Z a-z 0-9 . _ -"
    }

    /// Whether `name` is a valid function name.
    public static func isValid(_ name: String) -> Bool {
        var copy = name
        return copy.withUTF8 { isValid(UnsafeRawBufferPointer($0)) }
    }
}

@testable import Framing
import Testing

private func hex(_ digest: InlineArray<20, UInt8>) -> String {
    var text = ""
    for index in digest.indices {
        let digits = String(digest[index], radix: 16)
        text += digits.count == 1 ? "0" + digits : digits
    }
    return text
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// SHA-1 against RFC 3174 §7.3's four test vectors.
@Suite struct WebSocketSHA1Tests {
    @Test(arguments: [
        ("abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("a", 1_000_000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f"),
        ("01234567012345670123456701234567" + "01234567012345670123456701234567", 10, "dea356a2cddd90c7a7ecedc5ebb563934f460452"),
    ])
    func rfc3174Vectors(text: String, repeats: Int, digest: String) {
        var hasher = SHA1()
        let octets = bytes(text)
        for _ in 0..<repeats { hasher.update(octets.span.bytes) }
        #expect(hex(hasher.finalize()) == digest)
    }

    @Test func emptyInputAndBlockEdges() {
        #expect(hex(SHA1.hash([UInt8]().span.bytes)) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        // 55, 56 and 64 octets straddle the padding's length field.
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 55).span.bytes)) == "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 56).span.bytes)) == "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        #expect(hex(SHA1.hash([UInt8](repeating: 0x61, count: 64).span.bytes)) == "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }
}

/// Base 64 against RFC 4648 §10's vectors, both ways, and non-canonical input refused.
@Suite struct WebSocketBase64Tests {
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(bytes(plain).span.bytes) == encoded)
        var decoded: [UInt8] = []
        #expect(Base64.decode(bytes(encoded).span.bytes, appendingTo: &decoded))
        #expect(decoded == bytes(plain))
    }

    @Test(arguments: ["Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm=v", "Zg==Zg==", "Zm9v!A==", "Zm 9"])
    func nonCanonicalInputIsRefused(_ text: String) {
        var decoded: [UInt8] = [1]
        #expect(!Base64.decode(bytes(text).span.bytes, appendingTo: &decoded))
        #expect(decoded == [1])
    }
}

import Testing
@testable import StatesLanguage

@Suite struct DigestTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let message: String, md5: String, sha1: String, sha256: String, sha384: String, sha512: String
        init(_ m: String, _ a: String, _ b: String, _ c: String, _ d: String, _ e: String) {
            message = m; md5 = a; sha1 = b; sha256 = c; sha384 = d; sha512 = e
        }
        var testDescription: String { message.count > 20 ? "\(message.prefix(20))… (\(message.utf8.count) bytes)" : "'\(message)'" }
    }

    // FIPS 180 / RFC 1321 examples and lengths around the padding boundaries (55/56, 63/64,
    // 111/112, 127/128 bytes), checked against Python's hashlib.
    static let vectors: [Vector] = [
        Vector("", "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
        Vector("abc", "900150983cd24fb0d6963f7d28e17f72", "a9993e364706816aba3e25717850c26c9cd0d89d", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        Vector("The quick brown fox jumps over the lazy dog", "9e107d9d372bb6826bd81d3542a419d6", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592", "ca737f1014a48f4c0b6dd43cb177b0afd9e5169367544c494011e3317dbf9a509cb1e5dc1e85a941bbee3d7f2afbc9b1", "07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6"),
        Vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "8215ef0796a20bcaaae116d3876c664a", "84983e441c3bd26ebaae4aa1f95129e5e54670f1", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b", "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"),
        Vector("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", "03dd8807a93175fb062dfb55dc7d359c", "a49b2446a02c645bf419f995b67091253a04a259", "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1", "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039", "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
        Vector("héllo wörld 😀", "55435a4c91c72af251d4cc25ffc3aece", "84b2bb1e92c3f1f37786f3c621857ee3ac751294", "4d51765c5c512fcd71d5dfbb7bdf72e9ec2cb09bb2dfac7cdf3949fcd48f7613", "99e9a6a96072b57aaa79b6d41b11ddce750186de8361311699dd1bcfd3dbd4424b28a58a89808f68af6f93173786df55", "bafc2edfd35896c67744bffadc20e6f811002cfb0e2e8d32faa57390205a5d574fa4c0cf7a51104e4f5589de93436666796e56d5400f61cb22c5474e408ef2c4"),
        Vector(String(repeating: "a", count: 55), "ef1772b6dff9a122358552954ad0df65", "c1c8bbdc22796e28c0e15163d20899b65621d65a", "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318", "5d91ac7e74e62b5c728904b40f10784d66b7af9cb6302123e48c92f0432ceb8d2a92c02de77dcb29ed75c4b42bde46f4", "b0220c772cbf6c1822e2cb38a437d0e1d58772417a4bbb21c961364f8b6143e05aa6316dca8d1d7b19e16448419076395f6086cb55101fbd6d5497b148e1745f"),
        Vector(String(repeating: "a", count: 56), "3b0c8ac703f828b04c6c197006d17218", "c2db330f6083854c99d4b5bfb6e8f29f201be699", "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a", "8a8d9649ea04e993a6ca7135af7e3392cc5fca84f8531cac7aa3feed4eb98f55dcbe0f3284b61c6f35f98b02cc644b4c", "962b64aae357d2a4fee3ded8b539bdc9d325081822b0bfc55583133aab44f18bafe11d72a7ae16c79ce2ba620ae2242d5144809161945f1367f41b3972e26e04"),
        Vector(String(repeating: "a", count: 63), "b06521f39153d618550606be297466d5", "03f09f5b158a7a8cdad920bddc29b81c18a551f5", "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34", "7e7f097e95b52bb8f53383450ecaf9868187c130981730c03b6d573adfc0b991e365244e5b4bfa082bfb43c517d37120", "c1b0f5c6d3b03dfe4a2602e67242f54e344090b66e01100a469b129f583f016c7e27dddeaa438393dcc7ec54b0b57c9ba7af007f9b56db5f6fb677d972a31362"),
        Vector(String(repeating: "a", count: 64), "014842d480b571495a4a0363793f7367", "0098ba824b5c16427bd7a1122a5a442a25ec644d", "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb", "2e404b9339da795776e510d96930b3be2904c500395b8cb7413334b82d4dec413b4b8113045a05bbbcff846f027423f6", "01d35c10c6c38c2dcf48f7eebb3235fb5ad74a65ec4cd016e2354c637a8fb49b695ef3c1d6f7ae4cd74d78cc9c9bcac9d4f23a73019998a7f73038a5c9b2dbde"),
        Vector(String(repeating: "a", count: 111), "089f243d1e831c5879aa375ee364a06e", "ac877859d427d9192054eea8feb3b8a403ef83a5", "6374f73208854473827f6f6a3f43b1f53eaa3b82c21c1a6d69a2110b2a79baad", "3c37955051cb5c3026f94d551d5b5e2ac38d572ae4e07172085fed81f8466b8f90dc23a8ffcdea0b8d8e58e8fdacc80a", "fa9121c7b32b9e01733d034cfc78cbf67f926c7ed83e82200ef86818196921760b4beff48404df811b953828274461673c68d04e297b0eb7b2b4d60fc6b566a2"),
        Vector(String(repeating: "a", count: 112), "9146ef3527c7cfcc66dc615c3986e391", "689993727ba37386bb032495e9dbdfb4dd1ba744", "f54353008a2553262ecdc4a34749563ba0950e8b0fc8652780b0a614b99683c1", "187d4e07cb306103c69967bf544d0dfbe9042577599c73c330abc0cb64c61236d5ed565ee19119d8c31779a38f791fcd", "c01d080efd492776a1c43bd23dd99d0a2e626d481e16782e75d54c2503b5dc32bd05f0f1ba33e568b88fd2d970929b719ecbb152f58f130a407c8830604b70ca"),
        Vector(String(repeating: "a", count: 127), "020406e1d05cdc2aa287641f7ae2cc39", "89d95fa32ed44a7c610b7ee38517ddf57e0bb975", "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a", "9bd06b1763c2cf7aef40e795dc65bc96d59c41b537f3ad72ebdefd485476b5717c1aeb37c327fe9c1831b12b9efd08ae", "828613968b501dc00a97e08c73b118aa8876c26b8aac93df128502ab360f91bab50a51e088769a5c1eff4782ace147dce3642554199876374291f5d921629502"),
        Vector(String(repeating: "a", count: 128), "e510683b3f5ffe4093d021808bc6ff70", "ad5b3fdbcb526778c2839d2f151ea753995e26a0", "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e", "edb12730a366098b3b2beac75a3bef1b0969b15c48e2163c23d96994f8d1bef760c7e27f3c464d3829f56c0d53808b0b", "b73d1929aa615934e61a871596b3f3b33359f42b8175602e89f7e06e5f658a243667807ed300314b95cacdd579f3e33abdfbe351909519a846d465c59582f321"),
        Vector(String(repeating: "a", count: 1000), "cabe45dcc9ae5b66ba86600cca6b8ba8", "291e9a6c66994949b57ba5e650361e98fc36b1ba", "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3", "f54480689c6b0b11d0303285d9a81b21a93bca6ba5a1b4472765dca4da45ee328082d469c650cd3b61b16d3266ab8ced", "67ba5535a46e3f86dbfbed8cbbaf0125c76ed549ff8b0b9e03e0c88cf90fa634fa7b12b47d77b694de488ace8d9a65967dc96df599727d3292a8d9d447709c97"),
    ]

    @Test(arguments: vectors)
    func standardVectors(_ v: Vector) {
        let bytes = Array(v.message.utf8)
        #expect(Digest.hex(Digest.md5(bytes)) == v.md5)
        #expect(Digest.hex(Digest.sha1(bytes)) == v.sha1)
        #expect(Digest.hex(Digest.sha256(bytes)) == v.sha256)
        #expect(Digest.hex(Digest.sha384(bytes)) == v.sha384)
        #expect(Digest.hex(Digest.sha512(bytes)) == v.sha512)
    }

    // Cases intrinsic_functions.test_hash_calculations.TestHashCalculations.test_hash__exec_hist_resp_0...4.
    @Test(arguments: [
        (Digest.Algorithm.md5, "812f45842bc6d66ee14572ce20db8e86"),
        (.sha1, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (.sha256, "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        (.sha384, "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562"),
        (.sha512, "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4"),
    ])
    func corpusHashes(_ algorithm: Digest.Algorithm, _ expected: String) {
        #expect(Digest.hex(Digest.hash(Array("input data".utf8), using: algorithm)) == expected)
    }
}

@Suite struct Base64Tests {
    // RFC 4648 section 10.
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                      ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"), ("Data to encode", "RGF0YSB0byBlbmNvZGU="),
                      ("Hello World", "SGVsbG8gV29ybGQ="), ("é😀", "w6nwn5iA")])
    func roundTrip(_ plain: String, _ encoded: String) {
        #expect(Base64.encode(plain) == encoded)
        #expect(Base64.decode(encoded).map { String(decoding: $0, as: UTF8.self) } == plain)
    }

    // Java's basic decoder: padding optional but complete when present; nothing after it.
    @Test(arguments: [("Zg", "f"), ("Zm8", "fo")])
    func unpaddedIsAccepted(_ encoded: String, _ plain: String) {
        #expect(Base64.decode(encoded).map { String(decoding: $0, as: UTF8.self) } == plain)
    }

    @Test(arguments: ["Z", "Zg=", "Zg===", "Zm9v YmFy", "Zm9v\nYmFy", "Zg==Zg==", "Zm9v!", "Zm8=a", "====", "Zg=a"])
    func invalidIsRejected(_ encoded: String) {
        #expect(Base64.decode(encoded) == nil)
    }
}

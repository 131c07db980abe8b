import CCRC32C

/// CRC-32C (Castagnoli), the checksum of the file store's records: the processor's instruction
/// where it has one (x86-64 SSE 4.2, checked at run time), else a table (slicing by 8), which is
/// also the reference the instruction is tested against.
struct CRC32C {
    /// Whether ``checksum(_:)`` uses the processor's instruction.
    static let usesHardware = ccrc32c_hardware_available() == 1

    private static let tables: [UInt32] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for n in 0..<256 {
            var crc = UInt32(n)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][n] = crc
        }
        for n in 0..<256 {
            for k in 1..<8 { tables[k][n] = (tables[k - 1][n] >> 8) ^ tables[0][Int(tables[k - 1][n] & 0xFF)] }
        }
        return tables.flatMap { $0 }
    }()

    /// The checksum of `bytes`.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard usesHardware else { return softwareChecksum(bytes) }
        guard let base = bytes.baseAddress else { return 0 }
        return ~ccrc32c_hardware_update(0xFFFF_FFFF, base, bytes.count)
    }

    /// The checksum of `bytes` computed with the table, whatever the processor.
    static func softwareChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        Self.tables.withUnsafeBufferPointer { all in
            let base = all.baseAddress!
            let t0 = base, t1 = base + 256, t2 = base + 512, t3 = base + 768
            let t4 = base + 1024, t5 = base + 1280, t6 = base + 1536, t7 = base + 1792
            var i = 0
            let count = bytes.count
            while i + 8 <= count {
                let lo =
                    crc
                    ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                        | UInt32(bytes[i + 3]) << 24)
                crc =
                    t7[Int(lo & 0xFF)] ^ t6[Int((lo >> 8) & 0xFF)] ^ t5[Int((lo >> 16) & 0xFF)] ^ t4[Int(lo >> 24)]
                    ^ t3[Int(bytes[i + 4])] ^ t2[Int(bytes[i + 5])] ^ t1[Int(bytes[i + 6])] ^ t0[Int(bytes[i + 7])]
                i += 8
            }
            while i < count {
                crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(bytes[i])) & 0xFF)]
                i += 1
            }
        }
        return ~crc
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let array = Array(bytes)
        return array.withUnsafeBytes { checksum($0) }
    }
}

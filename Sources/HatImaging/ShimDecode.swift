// The two-pass decode both codec shims follow: a header-only call that checks the size limits
// before anything is allocated, then a call that fills one RGB array in place. Each codec passes
// its own shim function (it stays the only file importing its C library) and its result codes.

/// What a codec's C shim returns: success, zero-sized image, over the limits, or any other error.
struct ShimCodes {
    let ok: Int, empty: Int, tooLarge: Int
    let messageLength: Int
}

/// A shim decode call: (output pointer or nil for header only, output capacity, &width, &height,
/// message buffer) -> result code. The input bytes and limits are captured by the closure.
typealias ShimDecodeCall = (UnsafeMutablePointer<UInt8>?, Int, inout Int, inout Int, inout [CChar]) -> Int

func decodeWithShim(format: String, codes: ShimCodes, limits: ImageLimits,
                    _ call: ShimDecodeCall) throws -> RGBImage {
    var width = 0, height = 0
    var message = [CChar](repeating: 0, count: codes.messageLength)
    // Header only: dimensions and limits, nothing allocated yet.
    try check(call(nil, 0, &width, &height, &message), format: format, codes: codes,
              width: width, height: height, limits: limits, message: message)
    // (height, width, 3) bytes, RGB interleaved, filled by the C library in place.
    var code = -1
    let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, count in
        var w = 0, h = 0
        code = call(out.baseAddress, out.count, &w, &h, &message)
        count = code == codes.ok ? out.count : 0
    }
    try check(code, format: format, codes: codes, width: width, height: height, limits: limits, message: message)
    return RGBImage(width: width, height: height, pixels: pixels)
}

/// Turns a shim result code into an `ImageError` (or nothing for success).
private func check(_ code: Int, format: String, codes: ShimCodes, width: Int, height: Int,
                   limits: ImageLimits, message: [CChar]) throws {
    switch code {
    case codes.ok: return
    case codes.empty: throw ImageError.empty(format: format, width: width, height: height)
    case codes.tooLarge: throw ImageError.tooLarge(format: format, width: width, height: height, limits: limits)
    default: throw ImageError.corrupt(format: format, message: cString(message))
    }
}

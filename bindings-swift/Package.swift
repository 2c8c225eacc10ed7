// swift-tools-version:5.9
// BillbridgeKit: billbridge for iOS and macOS apps. The Swift sources are generated from
// the Rust library by UniFFI and committed (Sources/BillbridgeKit); the library itself
// comes in `build/billbridgeFFI.xcframework`, which `./build-xcframework.sh` builds on
// macOS. Then `swift test` runs the XCTest suite on macOS.
import PackageDescription

let package = Package(
    name: "BillbridgeKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "BillbridgeKit", targets: ["BillbridgeKit"]),
    ],
    targets: [
        .binaryTarget(name: "billbridgeFFI", path: "build/billbridgeFFI.xcframework"),
        .target(
            name: "BillbridgeKit",
            dependencies: ["billbridgeFFI"],
            path: "Sources/BillbridgeKit",
            // The TLS stack verifies Stripe's certificate with the system's trust store.
            linkerSettings: [
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
        .testTarget(
            name: "BillbridgeKitTests",
            dependencies: ["BillbridgeKit"],
            path: "Tests/BillbridgeKitTests"
        ),
    ]
)

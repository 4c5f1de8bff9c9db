// hb: the swift-heartbeat command-line tool. Subcommands arrive with the Transports issue.
let version = "0.1.0"
let usage = """
    hb \(version) — heartbeat framing and liveness for TCP, HTTP/2 and QUIC

    usage: hb <command> [options]
      --version   print the version
      --help      print this help
    """
let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "--version" {
    print("hb \(version)")
} else {
    print(usage)
}

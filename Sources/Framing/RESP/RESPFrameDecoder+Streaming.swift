/// Frames come whole in streaming mode too: see `StreamingFrameDecoder`.
extension RESPFrameDecoder: StreamingFrameDecoder {}

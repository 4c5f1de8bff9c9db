/// Frames come whole in streaming mode too: see `StreamingFrameDecoder`.
extension AMQPFrameDecoder: StreamingFrameDecoder {}

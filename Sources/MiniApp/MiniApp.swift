/// Namespace for the MiniApp module.
public enum MiniApp {}

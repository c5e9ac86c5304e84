/// Namespace for the Marketing module.
public enum Marketing {}

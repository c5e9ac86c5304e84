/// Namespace for the Billing module.
public enum Billing {}

"""What every UI layer may use: workers, icons and themes, dialogs, settings, the provider form."""

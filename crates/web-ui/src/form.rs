//! Form fields and their errors, as the templates show them: every input has a label, an
//! optional hint, and an error message tied to it by `aria-describedby`; the same errors are
//! listed in a summary at the top of the page, each linking to its field.

/// One error: of a field (its DOM id) or of the whole form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FormError {
    pub target: Option<String>,
    pub message: String,
}

/// The errors of a submitted form.
#[derive(Clone, Debug, Default)]
pub(crate) struct FormErrors {
    pub items: Vec<FormError>,
}

impl FormErrors {
    pub(crate) fn field(&mut self, id: &str, message: impl Into<String>) {
        if self.get(id).is_none() {
            self.items.push(FormError {
                target: Some(id.to_owned()),
                message: message.into(),
            });
        }
    }

    pub(crate) fn general(&mut self, message: impl Into<String>) {
        self.items.push(FormError {
            target: None,
            message: message.into(),
        });
    }

    /// The message of field `id`.
    pub(crate) fn get(&self, id: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|e| e.target.as_deref() == Some(id))
            .map(|e| e.message.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// An input and everything the template needs to render it accessibly.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    /// Unique on the page; the label's `for`.
    pub id: &'static str,
    pub name: &'static str,
    pub label: &'static str,
    /// The input `type`.
    pub kind: &'static str,
    pub value: String,
    pub autocomplete: &'static str,
    pub inputmode: Option<&'static str>,
    pub hint: Option<String>,
    pub error: Option<String>,
    pub required: bool,
    pub autofocus: bool,
}

impl Field {
    pub(crate) fn new(id: &'static str, name: &'static str, label: &'static str) -> Self {
        Self {
            id,
            name,
            label,
            kind: "text",
            value: String::new(),
            autocomplete: "off",
            inputmode: None,
            hint: None,
            error: None,
            required: true,
            autofocus: false,
        }
    }

    /// A password input (its value is never sent back to the browser).
    pub(crate) fn password(
        id: &'static str,
        name: &'static str,
        label: &'static str,
        autocomplete: &'static str,
    ) -> Self {
        Self {
            kind: "password",
            autocomplete,
            ..Self::new(id, name, label)
        }
    }

    pub(crate) fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn value(mut self, value: impl Into<String>) -> Self {
        if self.kind != "password" {
            self.value = value.into();
        }
        self
    }

    pub(crate) fn autocomplete(mut self, autocomplete: &'static str) -> Self {
        self.autocomplete = autocomplete;
        self
    }

    pub(crate) fn inputmode(mut self, mode: &'static str) -> Self {
        self.inputmode = Some(mode);
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// Focus this field when the page opens (the first field of a page, or the first with
    /// an error).
    pub(crate) fn focus(mut self, yes: bool) -> Self {
        self.autofocus = yes;
        self
    }

    /// Takes this field's message from `errors`.
    pub(crate) fn errors(mut self, errors: &FormErrors) -> Self {
        self.error = errors.get(self.id).map(str::to_owned);
        self
    }

    pub(crate) fn hint_id(&self) -> String {
        format!("{}-hint", self.id)
    }

    pub(crate) fn error_id(&self) -> String {
        format!("{}-error", self.id)
    }

    /// The `aria-describedby` value (hint and error ids), if any.
    pub(crate) fn described_by(&self) -> Option<String> {
        let ids: Vec<String> = [
            self.hint.as_ref().map(|_| self.hint_id()),
            self.error.as_ref().map(|_| self.error_id()),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

/// Marks the first field with an error (or else the first field) for autofocus.
pub(crate) fn focus_first(fields: &mut [&mut Field]) {
    let target = fields.iter().position(|f| f.error.is_some()).unwrap_or(0);
    for (i, f) in fields.iter_mut().enumerate() {
        f.autofocus = i == target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_tied_to_their_field() {
        let mut errors = FormErrors::default();
        errors.field("login-password", "wrong");
        errors.field("login-password", "second message ignored");
        errors.general("summary only");
        let f = Field::password("login-password", "password", "Password", "current-password")
            .value("secret")
            .hint("At least 12 characters")
            .errors(&errors);
        assert_eq!(f.value, "", "a password is never echoed");
        assert_eq!(f.error.as_deref(), Some("wrong"));
        assert_eq!(
            f.described_by().as_deref(),
            Some("login-password-hint login-password-error")
        );
        assert_eq!(errors.items.len(), 2);
        let plain = Field::new("x", "x", "X");
        assert_eq!(plain.described_by(), None);
    }
}

//! Reading one answer: the question with its default, a line of input, and the answer checked for its shape. A
//! wrong answer is said and the question asked again (a few times, then the set-up stops).

use std::io::{BufRead, Write};

use super::questions::{Ask, Shape};
use crate::claims::EmailAddress;

/// Tries at one question before the set-up gives up.
const TRIES: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no answer to \"{0}\" (the input ended)")]
    NoAnswer(String),
    #[error("\"{question}\": {problem}")]
    Invalid { question: String, problem: String },
    #[error("could not read or write: {0}")]
    Io(#[from] std::io::Error),
}

/// One setting's answer, checked.
pub fn ask_one(
    input: &mut impl BufRead,
    prompts: &mut impl Write,
    ask: &Ask,
) -> Result<String, SetupError> {
    let shown = match ask.default {
        Some("") => " [empty]".to_owned(),
        Some(default) => format!(" [{default}]"),
        None => String::new(),
    };
    let mut problem = String::new();
    for _ in 0..TRIES {
        write!(prompts, "{}{shown}: ", ask.question)?;
        prompts.flush()?;
        let line = read_line(input, ask.question)?;
        let answer = match (line.is_empty(), ask.default) {
            (true, Some(default)) => return Ok(default.to_owned()),
            (true, None) => Err("an answer is required".to_owned()),
            (false, _) => check(&line, ask.shape).map(|()| line),
        };
        match answer {
            Ok(answer) => return Ok(answer),
            Err(why) => {
                writeln!(prompts, "  {why}")?;
                problem = why;
            }
        }
    }
    Err(SetupError::Invalid {
        question: ask.question.to_owned(),
        problem,
    })
}

/// A comma-separated choice among `allowed`; empty is `default`.
pub fn choices(
    input: &mut impl BufRead,
    prompts: &mut impl Write,
    question: &str,
    default: &str,
    allowed: &[&str],
) -> Result<Vec<String>, SetupError> {
    for _ in 0..TRIES {
        write!(prompts, "{question} [{default}]: ")?;
        prompts.flush()?;
        let line = read_line(input, question)?;
        let line = if line.is_empty() {
            default.to_owned()
        } else {
            line
        };
        let picked: Vec<String> = line
            .split(',')
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
            .collect();
        match picked.iter().find(|c| !allowed.contains(&c.as_str())) {
            None if !picked.is_empty() => return Ok(picked),
            None => writeln!(prompts, "  choose at least one of {}", allowed.join(", "))?,
            Some(wrong) => writeln!(prompts, "  {wrong:?} is not one of {}", allowed.join(", "))?,
        }
    }
    Err(SetupError::Invalid {
        question: question.to_owned(),
        problem: format!("choose from {}", allowed.join(", ")),
    })
}

fn read_line(input: &mut impl BufRead, question: &str) -> Result<String, SetupError> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Err(SetupError::NoAnswer(question.to_owned()));
    }
    Ok(line.trim().to_owned())
}

/// Whether an answer has the shape the template will accept, so a deploy does not fail on it later.
fn check(answer: &str, shape: Shape) -> Result<(), String> {
    match shape {
        Shape::Text => Ok(()),
        Shape::Email => EmailAddress::parse(answer)
            .map(|_| ())
            .map_err(|_| "not an e-mail address".to_owned()),
        Shape::Emails => answer
            .split(',')
            .try_for_each(|a| EmailAddress::parse(a.trim()).map(|_| ()))
            .map_err(|_| "not a comma-separated list of e-mail addresses".to_owned()),
        Shape::SecretArn => secret_arn(answer),
        Shape::Url => match reqwest::Url::parse(answer) {
            Ok(url) if url.scheme() == "https" || url.scheme() == "http" => Ok(()),
            _ => Err("not an http(s) URL".to_owned()),
        },
        Shape::OneOf(allowed) => match allowed.contains(&answer) {
            true => Ok(()),
            false => Err(format!("one of {}", allowed.join(", "))),
        },
    }
}

/// `arn:aws:secretsmanager:<region>:<account>:secret:<name>`, as the template's pattern requires.
fn secret_arn(answer: &str) -> Result<(), String> {
    let parts: Vec<&str> = answer.splitn(7, ':').collect();
    let shaped = parts.len() == 7
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "secretsmanager"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5] == "secret"
        && !parts[6].is_empty();
    match shaped {
        true => Ok(()),
        false => Err("not the full ARN of a Secrets Manager secret (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_emails_and_choices_are_checked() {
        assert!(
            secret_arn("arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg/slack-AbCdEf")
                .is_ok()
        );
        assert!(secret_arn("arn:aws:secretsmanager:eu-west-1:1234:secret:x").is_err());
        assert!(secret_arn("pg/slack").is_err());
        assert!(check("a@example.com,b@example.com", Shape::Emails).is_ok());
        assert!(check("a@example.com;b", Shape::Emails).is_err());
        assert!(check("x86_64", Shape::OneOf(&["arm64", "x86_64"])).is_ok());
    }

    #[test]
    fn a_wrong_answer_is_asked_again_then_the_default_is_taken() {
        let ask = Ask {
            param: "Architecture",
            env: "",
            question: "Lambda architecture",
            default: Some("arm64"),
            shape: Shape::OneOf(&["arm64", "x86_64"]),
        };
        let mut input = "sparc\n\n".as_bytes();
        let mut prompts = Vec::new();
        assert_eq!(ask_one(&mut input, &mut prompts, &ask).unwrap(), "arm64");
        assert!(String::from_utf8_lossy(&prompts).contains("one of arm64, x86_64"));
        let mut ended = "".as_bytes();
        assert!(matches!(
            ask_one(&mut ended, &mut Vec::new(), &ask),
            Err(SetupError::NoAnswer(_))
        ));
    }
}
